"""One ``Config``, loaded from TOML with ``tomllib`` and validated before any work.

Every section is a frozen dataclass; the loader checks each key against the
dataclass fields and types, so an unknown key, a wrong type, a bad date or URL
fails with one line naming the file and the key (``digest.configload``); the values are
checked next (``digest.configcheck``). Secrets never live here: a section names the
*environment variable* that holds them.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.configload import build as _build
from digest.errors import ConfigError
from digest.sources.registry import SourceConfig, load_plugins
from digest.store.backends import sqlite_path

__all__ = ["Config", "HttpConfig", "SourceConfig", "load_config"]

DATABASE_URL_ENV = "DIGEST_DATABASE_URL"  # a database URL that overrides the config's


@dataclass(frozen=True)
class HttpConfig:
    """How live sources are fetched (see ``digest.sources.http``)."""

    timeout_s: float = 20.0  # connect, and each read: seconds of silence before giving up
    total_timeout_s: float = 120.0  # a whole reply, however slowly it trickles in
    retries: int = 4  # extra attempts on 429/5xx/timeouts/truncation (0 = one attempt)
    backoff_s: float = 2.0  # first retry waits about this long, then doubles (with jitter)
    max_backoff_s: float = 120.0  # cap on any wait, Retry-After included
    user_agent: str = "digest/0.1 (daily research-paper newsletter; +https://github.com/digest)"
    arxiv_min_interval_s: float = 3.0  # between two requests to arXiv (their robots policy)
    max_bytes: int = 50_000_000  # largest reply accepted, before and after gunzip


@dataclass(frozen=True)
class ThemesConfig:
    """Clustering settings; docs/themes.md explains each and what it measured."""

    min_theme_size: int = 3  # smaller groups fold into the "Other papers" remainder
    max_themes: int = 40
    seed: int = 0
    background_days: int = 7  # days of stored papers the IDF also draws on; 0 = the day alone
    background_max_papers: int = 1000  # the most recent ones; bounds the cost per day
    bundled_background: bool = True  # also the bundled arXiv document frequencies (cold start)
    prior_papers: int = 1000  # what they count as, less the store papers (docs/themes.md)
    lsa_components: int = 20
    kmeans_restarts: int = 4
    # the fewest themes whose silhouette is within this many standard errors of the best win
    # (1 over-split: 11-16 themes for 6-8 categories; docs/themes.md)
    k_tolerance: float = 2.0
    # the groups at the chosen k are a consensus of this many quick k-means runs; 0 = the
    # best k-means fit alone, as before issue 14's third pass (docs/themes.md)
    consensus_runs: int = 40


@dataclass(frozen=True)
class TrendingConfig:
    """Trending score weights; the score is defined in docs/trending.md."""

    top_n: int = 25
    window_days: int = 7
    weight_upvotes: float = 1.0
    weight_position: float = 1.0
    # the source's order is the strongest signal on a trending page: recurrence and momentum
    # only adjust it at the margin (docs/trending.md, measured by bench/eval_trending.py)
    weight_seen_days: float = 0.1
    weight_momentum: float = 0.1
    diversity: float = 0.1  # MMR penalty per share of the batch already in the paper's theme
    max_theme_share: float = 0.4  # of the batch, per theme, on days with diverse_min_themes+
    diverse_min_themes: int = 4
    rising_ratio: float = 1.5  # today's share / trailing share at or above which a theme is rising
    rising_min_papers: int = 3  # ... and it must hold at least this many papers today


@dataclass(frozen=True)
class RenderConfig:
    """Outputs of ``digest.render``; docs/rendering.md explains each."""

    templates_dir: str = ""  # a folder whose files override the bundled templates/ one by one
    feed_days: int = 30  # days in feed.xml (and papers.xml)
    max_email_bytes: int = 100_000  # the inlined email stays under this; Gmail clips at 102 KB
    summary_sentences: int = 2  # of the abstract, when the source has no AI summary
    # the archive's Pagefind index: a publish rebuilds the month bundles whose day pages
    # changed (a daily run: its month) and the topic/weekly bundle (digest.search)
    search: bool = True


@dataclass(frozen=True)
class EmailConfig:
    from_addr: str = "digest@localhost"
    from_name: str = ""  # display name; default: the config title
    reply_to: str = ""
    list_id: str = "digest.localhost"
    subject_prefix: str = ""  # before the date in the Subject; default: the config title
    unsubscribe_mailto: str = ""  # mailbox for the List-Unsubscribe mailto:; default: from_addr
    send_empty: bool = False
    rate_per_s: float = 50.0  # messages per second, over all SMTP connections
    connections: int = 1  # SMTP connections used at once (1-16; docs/delivery.md)
    max_hard_failures: int = 3  # 5xx replies (over all digests) before a subscriber is "bouncing"
    retries: int = 3  # tries again after a 4xx reply or a dropped connection
    retry_backoff_s: float = 2.0  # the first wait; doubles at each retry
    dkim_selector: str = ""  # DKIM signing is on when set (with dkim_domain): docs/delivery.md
    dkim_domain: str = ""  # the d= domain; its selector._domainkey TXT holds the public key
    dkim_key_env: str = "DIGEST_DKIM_KEY"  # variable holding the PEM private key ...
    dkim_key_file: str = ""  # ... or a file holding it (read instead of the variable)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    password_env: str = "DIGEST_SMTP_PASSWORD"
    timeout_s: float = 30.0


@dataclass(frozen=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    secret_env: str = "DIGEST_SECRET"  # signs confirm and unsubscribe links
    token_max_age_s: int = 7 * 24 * 3600  # confirmation links expire; unsubscribe links never do
    threads: int = 4  # waitress worker threads
    proxy_hops: int = 0  # reverse proxies in front whose X-Forwarded-For may be trusted
    subscribe_per_address: int = 3  # confirmation emails per address per rate window
    subscribe_per_client: int = 10  # subscribe requests per client address per rate window
    rate_window_s: int = 3600
    # without secret_env set, make a secret once beside the database and use it: for a
    # localhost site only (the bundled example), never a live one
    dev_secret: bool = False


@dataclass(frozen=True)
class PersonalConfig:
    """Personal digests (docs/personal.md): the For you section of each subscriber's email."""

    trending_weight: float = 0.5  # day-standardized trending score added to relevance
    max_items: int = 8  # For you papers per email (the best matches of the day, at most)


@dataclass(frozen=True)
class ChannelConfig:
    """One ``[[channels]]`` entry: a chat room the digest is posted to (digest.deliver.channels).
    ``url`` is an apprise URL whose secret part is written ``{secret}`` and read from the
    environment variable ``secret_env`` when sending."""

    kind: str
    name: str
    url: str
    secret_env: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class ScheduleConfig:
    """``digest schedule``: when to run, and how to treat days missed while not running."""

    cron: str = "30 7 * * *"  # crontab line (weekday 0 or 7 = Sunday), in ``timezone``
    timezone: str = "UTC"  # IANA name; the digest date is the date here at the fire time
    catch_up_days: int = 7  # look back this many days for due dates without a digest
    email_caught_up: str = "newest"  # newest | all | none (only a day produced on time)
    misfire_grace_s: int = 3600  # a run later than this after its fire time counts as caught up


@dataclass(frozen=True)
class TopicsConfig:
    """Persistent topics across days (docs/topics.md)."""

    enabled: bool = True
    threshold: float = 0.4  # centroid cosine at or above which a theme continues a topic
    active_days: int = 28  # a topic not seen for longer is inactive (and no longer linked)
    page_days: int = 28  # days of papers a topic's page and feed list
    rising_ratio: float = 1.5  # last 7 days' rate / last 28 days' rate to count as rising
    rising_min_papers: int = 5  # ... with at least this many papers in the last 7 days


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class WeeklyConfig:
    """The weekly roll-up (``digest weekly``; docs/topics.md)."""

    weekday: str = "monday"  # the scheduler builds and sends the previous week on this day
    top_papers: int = 15


@dataclass(frozen=True)
class Config:
    """The whole configuration. ``path`` is the file it came from (None: built-in defaults)."""

    title: str = "Trending papers"
    site_url: str = "http://localhost:8080/"
    output_dir: str = "output"
    database: str = ""  # default: var/<output folder name>.sqlite beside the output folder
    # the most bytes one listing may hold, once unzipped (files and replies): parsing takes
    # 4-7x this in memory (digest.formats.MAX_LISTING_BYTES has the figures)
    max_listing_bytes: int = 64_000_000
    # modules that register source kinds of their own (docs/ARCHITECTURE.md, "Sources")
    plugins: tuple[str, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    http: HttpConfig = field(default_factory=HttpConfig)
    themes: ThemesConfig = field(default_factory=ThemesConfig)
    trending: TrendingConfig = field(default_factory=TrendingConfig)
    render: RenderConfig = field(default_factory=RenderConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    weekly: WeeklyConfig = field(default_factory=WeeklyConfig)
    personal: PersonalConfig = field(default_factory=PersonalConfig)
    channels: tuple[ChannelConfig, ...] = ()
    path: Path | None = None

    @property
    def base_dir(self) -> Path:
        """Relative paths in a config file are relative to the project root the file sits in."""
        if self.path is None:
            return Path.cwd()
        parent = self.path.resolve().parent
        return parent.parent if parent.name == "config" else parent

    def resolve(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def output_path(self) -> Path:
        return self.resolve(self.output_dir)

    @property
    def database_url(self) -> str:
        """``DIGEST_DATABASE_URL`` when set, else the ``database`` key (may be empty)."""
        return os.environ.get(DATABASE_URL_ENV, "").strip() or self.database

    @property
    def database_path(self) -> Path | str:
        """The database to open: a ``postgresql://`` URL (``DIGEST_DATABASE_URL`` or the
        ``database`` key) as it is, a SQLite file as its path. Without either, the output
        folder's own ``var/<name>.sqlite`` beside it (never inside: the folder is served), so
        two output folders side by side never share one archive. An install from before
        keeps its ``var/digest.sqlite`` (see :attr:`former_database`)."""
        url = self.database_url
        if url.startswith(("postgresql://", "postgres://")):
            return url
        if url:
            return self.resolve(str(sqlite_path(url)))
        return self.former_database or self.own_database

    @property
    def own_database(self) -> Path:
        out = self.output_path
        return out.parent / "var" / f"{out.name or 'output'}.sqlite"

    @property
    def former_database(self) -> Path | None:
        """The former default ``var/digest.sqlite`` beside the output folder, when it is still
        this output's database: no database is configured, the folder's own does not exist
        yet, and the folder holds a published site. Kept rather than starting an empty
        database beside a site (and its subscribers) that was made from it."""
        if self.database_url:
            return None
        out = self.output_path
        former = out.parent / "var" / "digest.sqlite"
        if former == self.own_database or self.own_database.exists():
            return None
        return former if former.is_file() and (out / "index.html").is_file() else None

    def with_overrides(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)

    def secret(self, env_name: str) -> str | None:
        return os.environ.get(env_name) or None


# ---------------------------------------------------------------- loading

_TOP_KEYS_NOT_IN_FILE = {"path"}


def load_config(path: str | Path | None) -> Config:
    """Load and validate ``path``; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    if isinstance(data.get("plugins"), list):  # before [[sources]]: they may use its kinds
        load_plugins(tuple(str(m) for m in data["plugins"]), p)
    cfg = _build(Config, data, p, "", skip=_TOP_KEYS_NOT_IN_FILE)
    cfg = dataclasses.replace(cfg, path=p)
    from digest.configcheck import check  # it reads this module's dataclasses

    check(cfg, p)
    return cfg
