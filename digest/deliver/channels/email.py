"""The email channel: one message per confirmed daily subscriber, each with its own
unsubscribe and preferences links and, for a reader with a profile, the For you section.

The sending itself is :mod:`digest.deliver.send`'s (the paced SMTP connection, the
per-recipient log that makes it exactly-once, the outbox of a dry run); this module is
what makes it a :class:`~digest.deliver.channels.Channel`: it compiles the shared message
once and ranks every profile before the first message, then serves a round.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from digest.config import Config, EmailConfig
from digest.deliver.channels import Recipients, Rendered
from digest.deliver.message import MailTemplate, compile_mail
from digest.deliver.send import (
    Personal,
    SendReport,
    personalize,
    serve_round,
    write_outbox,
)
from digest.deliver.smtp import SmtpSettings
from digest.deliver.tokens import Links
from digest.models import Digest
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
