"""The email channel: one message per confirmed daily subscriber, each with its own
unsubscribe and preferences links and, for a reader with a profile, the For you section.

The sending itself is :mod:`digest.deliver.send`'s (the paced SMTP connections, the
per-recipient log that makes it exactly-once); this module is what makes it a
:class:`~digest.deliver.channels.Channel`: it compiles the shared message once and ranks
every profile before the first message, then serves a round, or (a dry run) writes each
message to the outbox.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from digest import writer
from digest.config import Config, EmailConfig
from digest.deliver.channels import Recipients, Rendered
from digest.deliver.foryou import Personal, personalize
from digest.deliver.message import MailTemplate, compile_mail
from digest.deliver.send import SendReport, message_for, serve_round
from digest.deliver.smtp import SmtpSettings
from digest.deliver.tokens import Links
from digest.models import Digest
from digest.store import subscribers as subs
from digest.store.protocol import StoreProtocol

log = logging.getLogger("digest.deliver")


@dataclass(frozen=True)
class EmailChannel:
    config: Config
    template: MailTemplate
    links: Links
    settings: SmtpSettings | None  # None: a dry run, which writes .eml files instead
    personal: Personal
    name: str = "email"

    @classmethod
    def prepare(
        cls, store: StoreProtocol, config: Config, digest: Digest, rendered: Rendered, dry_run: bool
    ) -> EmailChannel:
        """Check the settings (SMTP, signing secret), compile the shared message and rank
        the day for every reader with a profile: everything before the first message."""
        day = digest.date.isoformat()
        links = Links.for_outbox(config) if dry_run else Links.from_config(config)
        settings = None if dry_run else SmtpSettings.from_config(config)
        text, html_body = rendered.email_txt, rendered.email_html
        template = compile_mail(config, digest, text, html_body)
        if not template.has_unsubscribe_link:
            log.warning("%s: the rendered email has no unsubscribe placeholder in both parts", day)
        if config.email.from_addr == EmailConfig.from_addr:
            where = config.path or "the configuration"
            log.warning(
                "email.from_addr is not set in %s: messages go out From %s, which mail servers "
                "refuse or file as spam; set it in an [email] section",
                where,
                config.email.from_addr,
            )
        if not config.site_url.startswith("https://"):
            log.warning("site_url is not https: mail clients will not offer one-click unsubscribe")
        personal = personalize(store, config, digest, rendered.output_dir, text, html_body)
        return cls(config, template, links, settings, personal)

    def send(self, digest: Digest, rendered: Rendered, recipients: Recipients) -> SendReport:
        if recipients.round == 0 or self.settings is None:
            return write_outbox(
                recipients.store,
                self.config,
                digest,
                self.template,
                self.links,
                rendered.output_dir,
                self.personal,
            )
        return serve_round(
            recipients.store,
            self.config,
            recipients.key,
            self.template,
            self.links,
            self.settings,
            recipients.round,
            self.personal,
        )


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._+-]+")


def write_outbox(
    store: StoreProtocol,
    config: Config,
    digest: Digest,
    template: MailTemplate,
    links: Links,
    output_dir: Path,
    personal: Personal,
) -> SendReport:
    """Write each confirmed subscriber's message to OUTPUT/DAY/outbox/; the log is untouched."""
    day = digest.date.isoformat()
    written = 0
    for s in store.subscribers(subs.CONFIRMED):
        if s.cadence != subs.DAILY:  # weekly subscribers get the weekly digest only
            continue
        message_id = template.message_id(0, s.id)
        data, _ = message_for(
            config, digest.date, template, links, personal, s.id, s.email, message_id
        )
        name = _UNSAFE_NAME.sub("_", s.email)
        writer.write_files(output_dir, {f"{day}/outbox/{s.id:06d}-{name}.eml": data})
        written += 1
    return SendReport(day, 0, sent=written, dry_run=True)
