"""The reader's side of personal digests in ``digest serve``: preferences, feedback, feed.

* ``/preferences?token=…`` (the footer link of every email, daily or weekly): GET shows the
  reader's profile in a form, POST (with the same token) saves how often they get email
  (daily or weekly), keywords, excluded terms, categories and a seed library (arXiv ids
  pasted, or a BibTeX / RIS / CSL-JSON file uploaded).
* ``/feedback?token=…&paper=…&vote=…`` (More / Fewer like this under each For you paper;
  one token per section signs the reader and the day, and only a paper shown to that
  reader that day is accepted; the v1 links of older emails sign each vote): GET shows one
  button and changes nothing (mail scanners fetch every link); POST records the vote and
  folds it into the profile, so the next day's ranking uses it. The paper must have been in
  that reader's For you section of that day.
* ``/feed/<token>.xml``: the reader's For you items of their latest emails as RSS.

A forged, expired or cross-purpose token is a 400 that changes nothing.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, request

from digest.config import Config
from digest.deliver.foryou import one_line_reason
from digest.deliver.tokens import Links, TokenError
from digest.errors import DigestError
from digest.models import Paper
from digest.personal.profile import (
    Profile,
    ProfileError,
    profile_from_dict,
    profile_from_toml,
    profile_to_toml,
)
from digest.personal.seeds import read_seed_file, seeds_from_ids
from digest.render.feeds import FeedChannel, FeedItem
from digest.render.templating import render
from digest.serve.pages import feedback_form, preferences_form
from digest.store.protocol import StoreProtocol
from digest.store.subscribers import CADENCES, DAILY, WEEKLY

MAX_UPLOAD_BYTES = 4 * 1024 * 1024  # a seed library export; the rest of the site keeps 16 KB
FEED_DAYS = 14
MAX_PROBLEMS_SHOWN = 10

Reply = Callable[..., Response]


def add_personal_routes(
    app: Flask, config: Config, links: Links, store: Callable[[], StoreProtocol], reply: Reply
) -> None:
    @app.before_request
    def _upload_limit() -> None:
        if request.path == "/preferences":
            request.max_content_length = MAX_UPLOAD_BYTES

    def reader() -> tuple[str, str] | Response:
        token = request.args.get("token", "")
        try:
            address = links.preferences_email(token)
        except TokenError as exc:
            return reply(400, "Link not valid", f"Nothing was changed: {exc}.")
        if store().subscriber(address) is None:
            return reply(
                400, "Not subscribed", f"{address} is not on this list; nothing was changed."
            )
        return token, address

    def current(address: str) -> tuple[Profile, int]:
        stored = store().subscriber_profile(address)
        if stored is None:
            return Profile(name=address), 0
        return profile_from_toml(stored.toml), len(store().profile_seeds(stored.id))

    def show(status: int, address: str, token: str, *notes: str) -> Response:
        profile, seeds = current(address)
        sub = store().subscriber(address)
        cadence = sub.cadence if sub is not None else DAILY
        form = preferences_form(token, profile, seeds, links.feed_url(address), cadence)
        return reply(status, "Your preferences", f"For {address}.", *notes, form=form)

    @app.get("/preferences")
    def preferences_page() -> Response:
        target = reader()
        if isinstance(target, Response):
            return target
        token, address = target
        return show(200, address, token)

    @app.post("/preferences")
    def preferences_save() -> Response:
        target = reader()
        if isinstance(target, Response):
            return target
        token, address = target
        old, _ = current(address)
        form = request.form
        data = {
            "name": address,
            "keywords": _items(form.get("keywords", "")),
            "exclude": _items(form.get("exclude", "")),
            "categories": _items(form.get("categories", "")),
            "seed_ids": _items(form.get("seed_ids", "")),
            "liked_ids": list(old.liked_ids),
            "disliked_ids": list(old.disliked_ids),
        }
        try:
            profile = profile_from_dict(data, "the preferences form")
        except ProfileError as exc:
            return show(400, address, token, f"Nothing was saved: {_field(str(exc))}.")
        cadence = form.get("cadence")  # absent (an older form): unchanged
        if cadence is not None and cadence not in CADENCES:
            return show(400, address, token,
                        "Nothing was saved: 'cadence' must be daily or weekly.")  # fmt: skip
        upload = request.files.get("seed_file")
        problems: list[str] = []
        seeds: list[Paper] | None = None
        try:
            if upload is not None and upload.filename:
                seeds, problems = _uploaded(upload.read(), upload.filename, store())
            if seeds is not None or profile.seed_ids != old.seed_ids:
                kept = seeds if seeds is not None else _kept_seeds(store(), address, old)
                lib = seeds_from_ids(profile.seed_ids, store().papers_by_ids)
                problems += lib.problems
                seeds = kept + [p for p in lib.papers if p.id not in {k.id for k in kept}]
        except DigestError as exc:
            return show(400, address, token, f"Nothing was saved: {exc}")
        store().save_subscriber_profile(address, profile_to_toml(profile), seeds)
        if cadence is not None:
            store().set_subscriber_cadence(address, cadence)
        notes = ["Saved. Your next email ranks the day's papers by these preferences."]
        if cadence == WEEKLY:
            notes = ["Saved. You now get one email a week, with the week's top papers."]
        notes += problems[:MAX_PROBLEMS_SHOWN]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            notes.append(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more entries not used.")
        return show(200, address, token, *notes)

    def vote_target() -> tuple[str, str, str, int, dt.date, str] | Response:
        token = request.args.get("token", "")
        try:
            # the section's token with the paper and vote as parameters, or a v1 token
            address, paper_id, vote, day = links.feedback_vote(
                token, request.args.get("paper"), request.args.get("vote")
            )
        except TokenError as exc:
            return reply(400, "Link not valid", f"Nothing was changed: {exc}.")
        sub = store().subscriber(address)
        shown = store().for_you(sub.id, day) if sub is not None else []
        title = next((it.title for it in shown if it.paper_id == paper_id), None)
        if title is None:
            return reply(400, "Link not valid",
                         "Nothing was changed: this paper was not in your For you section.")  # fmt: skip
        return token, address, paper_id, vote, day, title

    @app.get("/feedback")
    def feedback_page() -> Response:
        target = vote_target()
        if isinstance(target, Response):
            return target
        _token, _address, _paper, vote, _day, title = target
        what = "More like this" if vote > 0 else "Fewer like this"
        # the button posts to this very link (its token, paper and vote)
        return reply(200, what, title, form=feedback_form(request.query_string.decode(), what))

    @app.post("/feedback")
    def feedback_save() -> Response:
        target = vote_target()
        if isinstance(target, Response):
            return target
        _token, address, paper_id, vote, day, title = target
        profile, _ = current(address)
        store().record_feedback(address, paper_id, vote, day)
        updated = profile.with_feedback(paper_id, vote)
        store().save_subscriber_profile(address, profile_to_toml(updated), None)
        more = "more" if vote > 0 else "fewer"
        return reply(200, "Thank you", f"You will see {more} papers like “{title}”.",
                     "Your next email takes it into account.")  # fmt: skip

    @app.get("/feed/<token>.xml")
    def private_feed(token: str) -> Response:
        try:
            address = links.feed_email(token)
        except TokenError as exc:
            return reply(400, "Link not valid", f"{exc}.")
        sub = store().subscriber(address)
        if sub is None:
            return reply(404, "No such feed", "This feed's subscriber has left the list.")
        items = []
        for day, section in store().recent_for_you(sub.id, FEED_DAYS):
            published = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)
            for it in section:
                link = it.url or links.site_url
                items.append(
                    FeedItem(
                        it.title,
                        link,
                        f"urn:digest:for-you:{day}:{it.paper_id}",
                        published,
                        _escape(one_line_reason(it.reasons)),
                    )  # fmt: skip
                )
        channel = FeedChannel(
            f"{config.title}: For you",
            links.site_url,
            "The papers picked for your preferences in each digest.",
            links.feed_url(address),
            items[0].published if items else None,
        )
        body = render(config, "feed.xml", channel=channel, items=items)
        resp = Response(body, 200, mimetype="application/rss+xml")
        resp.headers["Cache-Control"] = "private, no-store"
        return resp


def _items(text: str) -> list[str]:
    """A form field: one item a line or comma-separated."""
    return [x.strip() for line in text.splitlines() for x in line.split(",") if x.strip()]


def _field(message: str) -> str:
    return message.removeprefix("the preferences form: ")


def _escape(text: str) -> str:
    from html import escape

    return escape(text)


def _uploaded(raw: bytes, filename: str, store: StoreProtocol) -> tuple[list[Paper], list[str]]:
    """The seed papers of an uploaded library and its problems, named by the upload's name."""
    name = Path(filename).name or "upload"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        try:
            lib = read_seed_file(path, store.papers_by_ids)
        except DigestError as exc:
            raise DigestError(str(exc).replace(str(path), name)) from None
        problems = [p.replace(str(path), name) for p in lib.problems]
    if not lib.papers:
        raise DigestError(f"{name}: no usable paper in this file")
    return list(lib.papers), problems


def _kept_seeds(store: StoreProtocol, address: str, old: Profile) -> list[Paper]:
    """The stored seed papers that did not come from the old pasted ids (an earlier upload)."""
    stored = store.subscriber_profile(address)
    if stored is None:
        return []
    pasted = set(old.seed_ids)
    return [p for p in store.profile_seeds(stored.id) if p.id not in pasted]


__all__ = ["add_personal_routes"]
