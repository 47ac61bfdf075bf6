"""The few small pages ``digest serve`` answers with. Every value is escaped."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digest.personal.profile import Profile

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;"
    "color:#222}h1{font-size:1.4rem}button,input{font:inherit;padding:.4rem .8rem}"
    "a{color:#0645ad}"
    # the preferences form
    "label{display:block;font-weight:600;margin:1rem 0 .2rem}.hint{color:#555;font-size:.9rem;"
    "margin:.1rem 0 .3rem}textarea,input[type=text]{box-sizing:border-box;width:100%;"
    "font:inherit;padding:.4rem}fieldset{border:1px solid #ccc;margin:1rem 0;padding:.2rem 1rem 1rem;min-width:0}"
    "legend{font-weight:600}form button{margin-top:1rem}"
    "label.choice{display:inline;font-weight:400;margin:0 1.2rem 0 .3rem}"
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


def feedback_form(query: str, label: str) -> str:
    # the vote is cast by this button's POST, never by opening the link
    return (
        f'<form method="post" action="/feedback?{escape(query)}">'
        f'<button type="submit">{escape(label)}</button></form>'
    )


def preferences_form(
    token: str, profile: Profile, seeds: int, feed_url: str, cadence: str = "daily"
) -> str:
    """The preferences form, filled with ``profile`` and the reader's ``cadence`` (daily or
    weekly); ``seeds``: papers in the library now."""

    def choice(value: str, label: str) -> str:
        checked = " checked" if value == cadence else ""
        return (
            f'<input type="radio" id="cadence-{value}" name="cadence" value="{value}"{checked}>'
            f'<label class="choice" for="cadence-{value}">{label}</label>'
        )

    def area(name: str, label: str, hint: str, values: tuple[str, ...]) -> str:
        return (
            f'<label for="{name}">{label}</label><p class="hint" id="{name}-hint">{hint}</p>'
            f'<textarea id="{name}" name="{name}" rows="3" aria-describedby="{name}-hint">'
            f"{escape(chr(10).join(values))}</textarea>"
        )

    library = (
        f"Your library holds {seeds} paper{'s' if seeds != 1 else ''}."
        if seeds
        else "Your library is empty."
    )
    return (
        f'<form method="post" action="/preferences?token={escape(token)}" '
        'enctype="multipart/form-data">'
        + "<fieldset><legend>How often</legend>"
        + choice("daily", "Every day, with For you")
        + choice("weekly", "Once a week")
        + '<p class="hint">The weekly email has the week\'s top papers and no For you '
        "section.</p></fieldset>"
        + area(
            "keywords",
            "Keywords to follow",
            "One a line or comma-separated, e.g. mechanism design, auctions.",
            profile.keywords,
        )  # fmt: skip
        + area(
            "exclude",
            "Terms to exclude",
            "Papers that mention them are never picked.",
            profile.exclude,
        )  # fmt: skip
        + f'<label for="categories">arXiv categories</label><p class="hint" id="categories-hint">'
        'e.g. cs.GT, econ.TH</p><input type="text" id="categories" name="categories" '
        f'aria-describedby="categories-hint" value="{escape(", ".join(profile.categories))}">'
        + "<fieldset><legend>Seed library</legend>"
        + f'<p class="hint">Papers you care about. {library}</p>'
        + area("seed_ids", "arXiv ids", "One a line, e.g. 2501.01234.", profile.seed_ids)
        + '<label for="seed_file">Or upload a library</label><p class="hint" id="seed_file-hint">'
        "BibTeX, RIS or CSL-JSON, as Zotero, Mendeley or Google Scholar export it. "
        "It replaces the papers of an earlier upload.</p>"
        '<input type="file" id="seed_file" name="seed_file" aria-describedby="seed_file-hint" '
        'accept=".bib,.ris,.json,.txt">'
        "</fieldset>"
        '<button type="submit">Save preferences</button></form>'
        f'<p>Prefer RSS? <a href="{escape(feed_url)}">Your private For you feed</a> '
        "(keep its address to yourself).</p>"
    )
