"""``digest serve``: the archive, pages and feed, plus subscribe, confirm and unsubscribe.

A Flask app (:func:`create_app`) run under waitress (:func:`serve`) in
production. Static files come only from the output folder and only of
publishable kinds: no dotfiles, no outbox of dry-run emails, nothing outside.
Subscribing is double opt-in: ``POST /subscribe`` stores the address as
pending and mails a signed, expiring link to ``/confirm``, whose GET shows a
button and whose POST confirms (mail scanners fetch every link in a message, so
a GET must change nothing). ``/unsubscribe`` takes the signed token of a digest
email: GET shows a button, POST (the same request a mail client's one-click
button makes, RFC 8058) unsubscribes at once, needs no cookie, and never
redirects. ``/preferences``, ``/feedback`` and ``/feed/<token>.xml`` serve personal digests
(:mod:`digest.serve.personal`). Every response carries the security headers of :data:`SECURITY_HEADERS`
(an ``after_request`` hook, so pages added later get them too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from flask import Flask, Response, abort, g, request, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from digest.config import Config
from digest.deliver.message import confirmation_message
from digest.deliver.smtp import FAILED, SENT, Mailer, SmtpSettings, SmtpUnavailable
from digest.deliver.tokens import Links, TokenError
from digest.errors import DigestError, InputError
from digest.serve.files import MIME_TYPES, public_file
from digest.serve.pages import confirm_form, page, subscribe_form, unsubscribe_form
from digest.serve.personal import add_personal_routes
from digest.store import Store
from digest.store import subscribers as subs
from digest.store.protocol import StoreProtocol

log = logging.getLogger("digest.serve")

# The pages run no script of their own; scripts, workers and fetches are allowed from the
# site itself only (a search index such as Pagefind is a 'self' script that instantiates
# WebAssembly). Styles stay inline in the generated pages (and their bar widths are style
# attributes), so style-src needs 'unsafe-inline'; every value in them is escaped.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "worker-src 'self'",
        "connect-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    # tokens sit in URLs: never leak them through Referer
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def create_app(config: Config, output_dir: Path | None = None) -> Flask:
    """The WSGI app. Raises DigestError when the link-signing secret is missing."""
    links = Links.from_config(config)
    output = (output_dir or config.output_path).resolve()
    db_path = config.database_path
    Store.open(db_path).close()  # run migrations once, not per request
    try:
        smtp: SmtpSettings | None = SmtpSettings.from_config(config)
    except DigestError as exc:
        log.warning("subscriptions are off until SMTP is configured: %s", exc)
        smtp = None

    app = Flask(__name__, static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=16 * 1024)
    if config.serve.proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.serve.proxy_hops)  # type: ignore[method-assign]

    def store() -> StoreProtocol:
        if "store" not in g:
            g.store = Store.connect(db_path)
        return g.store

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        st = g.pop("store", None)
        if st is not None:
            st.close()

    @app.after_request
    def _headers(resp: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)
        # token pages are never cached
        if request.path in ("/subscribe", "/confirm", "/unsubscribe", "/preferences", "/feedback"):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    def reply(status: int, title: str, *text: str, form: str = "") -> Response:
        return Response(page(title, *text, form=form), status, mimetype="text/html")

    add_personal_routes(app, config, links, store, reply)

    @app.get("/")
    @app.get("/<path:path>")
    def static_file(path: str = "") -> Response:
        found = public_file(output, path)
        if found is None:
            abort(404)
        # types Python's mimetypes does not know, or knows too vaguely for feed readers
        mimetype = MIME_TYPES.get(PurePosixPath(found).suffix.lower())
        return send_from_directory(output, found, mimetype=mimetype)

    @app.get("/subscribe")
    def subscribe_page() -> Response:
        return reply(
            200, "Subscribe", "Get the digest by email every morning.", form=subscribe_form()
        )

    @app.post("/subscribe")
    def subscribe() -> Response:
        serve = config.serve
        window = serve.rate_window_s
        client = request.remote_addr or "unknown"
        if store().hit_rate_limit(f"client:{client}", serve.subscribe_per_client, window):
            return reply(429, "Too many requests", "Please try again later.")
        try:
            address = subs.normalize_email(request.form.get("email", ""))
        except InputError as exc:
            return reply(400, "Check the address", str(exc), form=subscribe_form())
        if smtp is None:
            return reply(503, "Subscriptions are closed", "This site cannot send email yet.")
        if store().hit_rate_limit(
            f"address:{address.lower()}", serve.subscribe_per_address, window
        ):
            return reply(429, "Too many requests", "Please try again later.")
        existing = store().subscriber(address)
        if existing is None or existing.status != subs.CONFIRMED:
            store().add_subscriber(address, subs.PENDING)
            message = confirmation_message(config, address, links.confirm_url(address))
            try:
                with Mailer(smtp, config.email.rate_per_s, retries=1, backoff_s=1.0) as mailer:
                    outcome = mailer.send(config.email.from_addr, address, message.as_bytes())
            except SmtpUnavailable as exc:
                log.error("confirmation to %s not sent: %s", address, exc)
                return reply(
                    503, "Please try again later", "The confirmation email could not be sent."
                )
            if outcome.status != SENT:
                # the server's own words stay in the log: they may name hosts, policies, users
                log.warning("confirmation to %s not sent: %s", address, outcome.detail)
                return reply(
                    400 if outcome.status == FAILED else 503,
                    "The confirmation email could not be sent",
                    "The mail server did not take the message for this address. "
                    "Check the address, or try again later.",
                    form=subscribe_form(),
                )
        # the same answer whether or not the address was already confirmed: no list probing
        return reply(
            200,
            "Check your inbox",
            f"If {address} is not already subscribed, a confirmation link is on its way. "
            "The digest starts once you follow it.",
        )

    def confirm_target() -> tuple[str, str] | Response:
        """(token, address) of a valid link to a pending address; else the page to answer."""
        token = request.args.get("token", "")
        try:
            address = links.confirmed_email(token)
        except TokenError as exc:
            again = "Subscribe again to get a new link." if exc.expired else ""
            return reply(400, "Link not valid", f"Nothing was changed: {exc}.", again,
                         form=subscribe_form())  # fmt: skip
        current = store().subscriber(address)
        if current is None or current.status in (subs.UNSUBSCRIBED, subs.BOUNCING):
            return reply(
                200,
                "Not subscribed",
                f"{address} is not waiting for confirmation, so nothing was changed. "
                "Subscribe again if you want the digest.",
                form=subscribe_form(),
            )
        if current.status == subs.CONFIRMED:
            return reply(200, "Subscribed", f"{address} will receive the digest every morning.")
        return token, address

    @app.get("/confirm")
    def confirm_page() -> Response:
        target = confirm_target()
        if isinstance(target, Response):
            return target
        token, address = target
        return reply(200, "Confirm your subscription", f"Send the digest to {address}?",
                     form=confirm_form(token, address))  # fmt: skip

    @app.post("/confirm")
    def confirm() -> Response:
        target = confirm_target()
        if isinstance(target, Response):
            return target
        _token, address = target
        store().set_subscriber_status(address, subs.CONFIRMED)
        return reply(200, "Subscribed", f"{address} will receive the digest every morning.")

    def unsubscribe_target() -> tuple[str, str] | Response:
        token = request.args.get("token", "")
        try:
            return token, links.unsubscribed_email(token)
        except TokenError as exc:
            return reply(400, "Link not valid", f"Nothing was changed: {exc}.")

    @app.get("/unsubscribe")
    def unsubscribe_page() -> Response:
        target = unsubscribe_target()
        if isinstance(target, Response):
            return target
        token, address = target
        return reply(200, "Unsubscribe", f"Stop sending the digest to {address}?",
                     form=unsubscribe_form(token, address))  # fmt: skip

    @app.post("/unsubscribe")
    def unsubscribe() -> Response:
        # RFC 8058: body "List-Unsubscribe=One-Click", no cookie, no login, no redirect
        target = unsubscribe_target()
        if isinstance(target, Response):
            return target
        _token, address = target
        store().set_subscriber_status(address, subs.UNSUBSCRIBED)  # None when already removed
        return reply(200, "Unsubscribed", f"{address} will receive no more emails from this list.")

    return app


def serve(
    config: Config,
    host: str,
    port: int,
    output_dir: Path | None = None,
    announce: Callable[[str], None] = log.warning,
) -> None:
    """Run the app under waitress, the production WSGI server, until interrupted."""
    import waitress

    app = create_app(config, output_dir)
    announce(f"serving {output_dir or config.output_path} on http://{host}:{port}/ (Ctrl-C stops)")
    waitress.serve(app, host=host, port=port, threads=config.serve.threads, ident="digest")
