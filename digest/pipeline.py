"""``run()``: one day through sources -> store -> themes -> trending -> render -> deliver.

The CLI (``digest run``) and the scheduler call this same function.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from digest import search, sources, themes, topics, trending, writer
from digest.config import Config
from digest.errors import EXIT_ERROR, EXIT_NO_PAPERS, EXIT_OK
from digest.models import Digest, Listing, SourceStatus
from digest.render.feeds import FeedChannel
from digest.store import Store
from digest.store.protocol import StoreProtocol
from digest.store.runs import LockInfo, day_status
from digest.topics.history import TopicLink

if TYPE_CHECKING:
    from digest.render import ArchiveEntry

# digest.render (jinja2, css-inline: 0.15 s) is imported where a day is rendered, so
# that commands which only rank or ingest (digest recommend, digest ingest) start fast

log = logging.getLogger("digest")


@dataclass(frozen=True)
class RunResult:
    date: dt.date
    sources: tuple[SourceStatus, ...]  # how each source fared (its listing is in the store)
    digest: Digest
    output_dir: Path
    sent: int | None = None

    @property
    def failed_sources(self) -> list[SourceStatus]:
        return [x for x in self.sources if not x.ok]

    @property
    def exit_code(self) -> int:
        if self.sources and not any(x.ok for x in self.sources):
            return EXIT_ERROR
        return EXIT_OK if self.digest.papers else EXIT_NO_PAPERS


def ingest(
    config: Config,
    day: dt.date | None,
    inputs: Sequence[Path] = (),
    store: StoreProtocol | None = None,
    undated: dt.date | None = None,
) -> list[Listing]:
    """Fetch or read the day's listings and store the good ones. Returns every listing, failed
    ones too. ``day=None``: files keep their own dates, an undated one takes ``undated``
    (see ``sources.collect``)."""
    own = store is None
    st = store or Store.open(config.database_path)
    try:
        return store_listings(st, sources.collect(config, day, inputs, st, undated), day)
    finally:
        if own:
            st.close()


def store_listings(
    store: StoreProtocol, listings: list[Listing], day: dt.date | None
) -> list[Listing]:
    """Store the good ones of ``listings`` (an undated one as ``day``, else today); log the
    failed ones. Returns ``listings``."""
    for listing in listings:
        if listing.ok:
            if listing.date is None:
                listing = _dated(listing, day or dt.date.today())
            store.save_listing(listing)
        else:
            log.info("source %s: %s: %s", listing.source, listing.status, listing.error)
    return listings


def build_digest(
    store: StoreProtocol,
    config: Config,
    day: dt.date,
    statuses: Sequence[SourceStatus],
    now: dt.datetime | None = None,
) -> Digest:
    """Themes and trending for everything the store holds for ``day``."""
    day_papers = store.day_papers(day)
    window = config.trending.window_days
    yesterday = day - dt.timedelta(days=1)
    history = store.papers_by_day(day - dt.timedelta(days=window), yesterday)
    back_days = config.themes.background_days
    # the trending window usually covers the background window: reuse it, don't query twice
    earlier = (
        {d: p for d, p in history.items() if d >= day - dt.timedelta(days=back_days)}
        if back_days <= window
        else store.papers_by_day(day - dt.timedelta(days=back_days), yesterday)
    )
    background: list = [p for papers in earlier.values() for p in papers] if back_days else []
    from digest.themes import stored

    # the window's tokens, read from the store (made and saved where missing); the day's
    # are saved for the days after it
    past = [p for papers in history.values() for p in papers]
    known = stored.window_documents(store, [*past, *background] if back_days > window else past)
    today = [d.paper for d in day_papers]
    result = themes.find_themes(today, config.themes, background, known)
    stored.save_day_tokens(store, today, result)
    return trending.rank(
        day,
        day_papers,
        result,
        history,
        config.trending,
        statuses,
        now or dt.datetime.now(dt.UTC).replace(microsecond=0),
    )


def publish(
    store: StoreProtocol,
    config: Config,
    digest: Digest,
    output: Path,
    site: bool = True,
    pages: bool = True,
) -> None:
    """Write the day's ``digest.json``, render the day (unless ``pages`` is False) and the
    feed and archive (unless ``site`` is False, as in backfills)."""
    day = digest.date.isoformat()
    links = topics.links_for(store, config.topics, digest) if pages else {}
    files = day_files(digest, config, links) if pages else {}
    # the digest.json text made once: the store keeps it too
    writer.write_files(output, {f"{day}/digest.json": digest.to_json_text(), **files})
    if site:
        publish_site(store, config, output)


def day_files(digest: Digest, config: Config, links: Mapping[str, TopicLink]) -> dict[str, str]:
    """The day's email, its text, its web page and its Markdown, each theme linking to its
    topic's page."""
    from digest import render

    day = digest.date.isoformat()
    rendered = render.render_day(digest, config, links)
    return {
        f"{day}/email.html": rendered.email_html,
        f"{day}/email.txt": rendered.email_txt,
        f"{day}/index.html": rendered.page_html,
        f"{day}/digest.md": rendered.markdown,
    }


def publish_site(store: StoreProtocol, config: Config, output: Path, jobs: int = 1) -> None:
    """The feeds (the newest ``render.feed_days`` digests), the archive (every day) and its
    search index (the bundles whose pages changed, ``jobs`` Pagefind runs at once). A day
    without papers is in none of them: the store keeps it (and its ``digest.json``) for the
    run log's sake, but a reader is never shown "0 papers in 0 themes"."""
    from digest import render

    recent = store.recent_digests(config.render.feed_days)
    site = render.render_site(recent, config, _archive(store, config, recent))
    files = dict(site.files)
    more = publish_topics(store, config, output) if config.topics.enabled else []
    if (output / "weekly.xml").is_file():  # written by `digest weekly` (digest/weekly.py)
        from digest.render.weekly import weekly_channel

        more.insert(0, weekly_channel(config))
    if more:  # feeds.opml lists every feed: the site's, the weekly one, the topics'
        files[render.OPML_NAME] = render.site_opml(config, site.feeds, more)
    # the archive, and every feed in every format (feed.xml, feed.atom, feed.json, ...)
    writer.write_files(output, files)
    # then the search index of the pages now in place (None: no pagefind, a warning said so)
    index = search.build_index(output, jobs) if config.render.search else None
    if index is not None:
        # unchanged files (Pagefind's scripts, the bundles of unchanged months) are left
        # alone; each batch goes in place before the next, which names its files
        for batch in index.batches:
            writer.write_files(output, batch, only_changed=True)
        writer.prune(output, search.FOLDER, keep=index.keep)
    elif not config.render.search:  # switched off: a former index would answer stale results
        writer.prune(output, search.FOLDER, keep=())


def publish_topics(store: StoreProtocol, config: Config, output: Path) -> list[FeedChannel]:
    """The topic index, and the page and feed of every topic that may have changed: those
    seen (themselves or their survivor) within ``topics.active_days`` of the newest day,
    and those without a page yet. An inactive topic's page stays as it was, unless the
    pages' markup changed since (``render.topics.PAGES_VERSION``). Returns the active
    topics' feeds, for ``feeds.opml``."""
    from digest.render.topics import (
        pages_outdated,
        render_topics,
        shown_days,
        topic_channels,
        topic_path,
    )
    from digest.topics.history import topic_views

    asof = store.linked_until()
    if asof is None:
        return []
    records = store.topics()
    views = topic_views(records, store.topic_days(), asof, config.topics)
    seen = {v.id: v.last_seen for v in views}
    recent = asof - dt.timedelta(days=config.topics.active_days + 1)
    every = pages_outdated(output)
    pages = {
        v.id
        for v in views
        if every
        or max(
            seen[v.id], seen.get(v.merged_into.id, v.last_seen) if v.merged_into else v.last_seen
        )
        >= recent
        or not (output / topic_path(v.slug, "feed.xml")).is_file()
    }
    shown = {v.merged_into.id if v.merged_into else v.id for v in views if v.id in pages}
    cards = store.paper_cards(
        pid for v in views if v.id in shown for d in shown_days(v, config) for pid in d.paper_ids
    )
    writer.write_files(output, render_topics(views, cards, config, pages), only_changed=True)
    return topic_channels(views, config)


def link_all_topics(
    store: StoreProtocol,
    config: Config,
    since: dt.date,
    output: Path,
    jobs: int = 1,
    unrendered: Collection[dt.date] = (),
) -> None:
    """Link the stored days from ``since`` on to topics (in date order), set the topic ids of
    every day whose ids changed in its stored and published ``digest.json``, and render those
    days and the ``unrendered`` ones (a backfill's: its workers leave the render to this
    step, so each day is rendered once) with ``jobs`` worker processes, as in
    ``patch_topic_ids``."""
    changed = topics.link_topics(store, config.topics, since) if config.topics.enabled else {}
    patch_topic_ids(store, config, changed, output, jobs, also=unrendered)


def patch_topic_ids(
    store: StoreProtocol,
    config: Config,
    changed: dict[dt.date, dict[str, str | None]],
    output: Path,
    jobs: int = 1,
    also: Collection[dt.date] = (),
) -> None:
    """Set the new topic ids of the ``changed`` days in their stored and published
    ``digest.json``, and render their page and email again, and those of the days ``also``
    (by ``jobs`` worker processes when above 1: ``digest.rerender``): they link each theme
    to its topic's page."""
    from digest.rerender import Renderer

    days = sorted({*changed, *also})
    links = topics.links_of(store, config.topics, days) if days and config.topics.enabled else {}
    # day by day: a backfill's days would be gigabytes of text at once
    with Renderer(config, output, jobs if len(days) > 1 else 1) as renderer:
        for day in days:
            text = store.digest_text(day)
            if text is None:  # themes stored, digest not (a run that failed after themes)
                continue
            if day in changed:
                text = topics.patch_text(text, changed[day])
                store.replace_digest_text(day, text)
                writer.write_files(output, {f"{day.isoformat()}/digest.json": text})
            renderer.add(text, links.get(day, {}))


def _archive(store: StoreProtocol, config: Config, recent: Sequence[Digest]) -> list[ArchiveEntry]:
    """Every day's archive entry. Each is made once from its digest and kept in the store,
    so a run after years of digests reads the few it feeds, not all of them."""
    from digest import render

    loaded = {d.date: d for d in recent}
    entries = []
    made: dict[dt.date, tuple[str, dict]] = {}
    for day, data in store.archive_entries().items():
        entry = render.ArchiveEntry.from_json(data) if data else None
        if entry is None:
            digest = loaded.get(day) or store.digest_for(day)
            if digest is None:  # removed meanwhile
                continue
            entry = render.ArchiveEntry.of(digest, config)
            # tagged with the digest it was made from: one saved anew meanwhile stays NULL
            made[day] = (digest.generated_at.isoformat(), entry.to_json())
        entries.append(entry)
    if made:
        store.save_archive_entries(made)
    return entries


def run(
    config: Config,
    day: dt.date,
    inputs: Sequence[Path] = (),
    output: Path | None = None,
    send: bool = False,
    site: bool = True,
    on_stage: Callable[[str], None] | None = None,
    collected: Sequence[SourceStatus] | None = None,
    store: StoreProtocol | None = None,
    link_topics: bool = True,
) -> RunResult:
    """Produce (and with ``send``, deliver) the digest of ``day``.

    ``collected``: the day's listings were already stored (by :func:`ingest`, as a
    backfill does before producing days in parallel); the sources stage is skipped
    and these statuses are reported. ``store``: an open store to use and leave open
    (a backfill worker keeps one for all its days, and SQLite's page cache with it);
    default: the configured one, opened and closed here. ``link_topics``: link the day's
    themes to topics now (a backfill's workers store them and the backfill process links
    the days in date order as they finish: linking is sequential by nature).
    """
    out = output or config.output_path
    report = on_stage or (lambda stage: log.debug("stage: %s", stage))
    with contextlib.ExitStack() as stack:
        st = store or stack.enter_context(Store.open(config.database_path))
        return _run(st, config, day, inputs, out, send, site, report, collected, link_topics)


def _run(
    store: StoreProtocol,
    config: Config,
    day: dt.date,
    inputs: Sequence[Path],
    out: Path,
    send: bool,
    site: bool,
    report: Callable[[str], None],
    collected: Sequence[SourceStatus] | None,
    link: bool = True,
) -> RunResult:
    from digest import render

    # the day's lock and run-log row: a scheduler, a backfill and this run never overlap on a day
    with store.day_run(day, on_wait=_say_waiting) as record:

        def note(stage: str) -> None:
            record.stage(stage)
            report(stage)

        if collected is None:
            note("sources")
            statuses = [SourceStatus.of(x) for x in ingest(config, day, inputs, store)]
        else:
            statuses = list(collected)
        note("themes")
        digest = build_digest(store, config, day, statuses)
        if day_status(statuses, len(digest.papers)) == "error":
            # every source failed: nothing is published and the day stays to do (the run
            # log says error), so the next run retries it; a digest made earlier is kept
            record.finish(statuses, digest, None)
            return RunResult(day, tuple(statuses), digest, out, None)
        if config.topics.enabled:
            store.save_day_themes(day, topics.signatures(digest))
            if link:
                changed = topics.link_topics(store, config.topics, day)
                digest = topics.with_topics(digest, changed.pop(day, {}))
                patch_topic_ids(
                    store, config, changed, out
                )  # later days, when an earlier one is redone
        # the archive's line for the day, made here: a backfill's workers make them all
        store.save_digest(digest, archive=render.ArchiveEntry.of(digest, config).to_json())
        note("render")
        # unlinked (a backfill's worker), a day is rendered by the backfill once it is linked
        publish(store, config, digest, out, site=site, pages=link or not config.topics.enabled)
        sent = None
        if send:
            note("deliver")
            from digest import deliver

            sent = deliver.send_digest(store, config, digest, out)
        record.finish(statuses, digest, sent)
    return RunResult(day, tuple(statuses), digest, out, sent)


def _say_waiting(holder: LockInfo) -> None:
    log.warning("the digest of this day is being produced by %s; waiting for it", holder.describe())


def _dated(listing: Listing, day: dt.date) -> Listing:
    from dataclasses import replace

    return replace(listing, date=day)
