"""The few small pages ``digest serve`` answers with. Every value is escaped."""

from __future__ import annotations

from html import escape

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#222}h1{font-size:1.4rem}button,input{font:inherit;padding:.4rem .8rem}"
    "a{color:#0645ad}"
)


def page(title: str, *paragraphs: str, form: str = "") -> str:
    """A complete HTML page; ``paragraphs`` are plain text, ``form`` is trusted markup."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}{form}"
        '<p><a href="/">Back to the archive</a></p></body></html>'
    )


def subscribe_form(action: str = "/subscribe") -> str:
    return (
        f'<form method="post" action="{escape(action)}">'
        '<label for="email">Email address</label> '
        '<input id="email" name="email" type="email" required autocomplete="email"> '
        '<button type="submit">Subscribe</button></form>'
    )


def unsubscribe_form(token: str, email: str) -> str:
    # posts exactly what a mail client's one-click button posts (RFC 8058)
    return (
        f'<form method="post" action="/unsubscribe?token={escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">Unsubscribe {escape(email)}</button></form>'
    )


def confirm_form(token: str, email: str) -> str:
    # a button, not an action on GET: mail scanners that fetch every link must not subscribe
    return (
        f'<form method="post" action="/confirm?token={escape(token)}">'
        f'<button type="submit">Confirm {escape(email)}</button></form>'
    )
