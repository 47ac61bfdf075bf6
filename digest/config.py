"""One ``Config``, loaded from TOML with ``tomllib`` and validated before any work.

Every section is a frozen dataclass; the loader checks each key against the
dataclass fields and types, so an unknown key, a wrong type, a bad date or URL
fails with one line naming the file and the key. Secrets never live here: a
section names the *environment variable* that holds them.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.configload import build as _build
from digest.configload import positive as _positive
from digest.configload import url_ok as _url_ok
from digest.errors import ConfigError
from digest.sources.registry import SourceConfig, check_sources, load_plugins
from digest.store.backends import backend_name, has_password, sqlite_path

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
    # Pagefind re-indexes the whole archive at every publish (it has no incremental mode):
    # about 10 s for 30 days and 100 s for 228 on a loaded 2-core machine (bench_search)
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


_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class PersonalConfig:
    """Personal digests (docs/personal.md): the For you section of each subscriber's email."""

    trending_weight: float = 0.5  # day-standardized trending score added to relevance
    max_items: int = 8  # For you papers per email (the best matches of the day, at most)


def _check_delivery(cfg: Config, file: Path) -> None:
    """Checks of the email, smtp and serve sections."""
    _positive(
        file,
        (
            ("email.max_hard_failures", cfg.email.max_hard_failures),
            ("smtp.timeout_s", cfg.smtp.timeout_s),
            ("serve.token_max_age_s", cfg.serve.token_max_age_s),
            ("serve.threads", cfg.serve.threads),
            ("serve.subscribe_per_address", cfg.serve.subscribe_per_address),
            ("serve.subscribe_per_client", cfg.serve.subscribe_per_client),
            ("serve.rate_window_s", cfg.serve.rate_window_s),
        ),
        strict=True,
    )
    _positive(
        file,
        (
            ("email.retries", cfg.email.retries),
            ("email.retry_backoff_s", cfg.email.retry_backoff_s),
            ("serve.proxy_hops", cfg.serve.proxy_hops),
        ),
        strict=False,
    )
    if not 0 < cfg.serve.port < 65536:
        raise ConfigError(f"{file}: 'serve.port' must be a TCP port, got {cfg.serve.port}")
    if cfg.serve.dev_secret and urlparse(cfg.site_url).hostname not in _LOCAL_HOSTS:
        raise ConfigError(
            f"{file}: 'serve.dev_secret' is for local use only, but site_url is "
            f"{cfg.site_url}: remove it and set {cfg.serve.secret_env}"
        )
    mailto = cfg.email.unsubscribe_mailto
    if mailto and "@" not in mailto:
        raise ConfigError(
            f"{file}: 'email.unsubscribe_mailto' must be an email address, got \"{mailto}\""
        )
    for key, text in (
        ("email.subject_prefix", cfg.email.subject_prefix),
        ("email.from_name", cfg.email.from_name),
        ("email.list_id", cfg.email.list_id),
    ):
        if "\n" in text or "\r" in text:
            raise ConfigError(f"{file}: '{key}' must be a single line")
    _check_dkim(cfg.email, file)


_DNS_NAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*$")


def _check_dkim(email: EmailConfig, file: Path) -> None:
    """DKIM needs a selector and a domain together; the key itself is read at send time."""
    if email.dkim_selector and not email.dkim_domain:
        raise ConfigError(
            f"{file}: 'email.dkim_domain' is required when 'email.dkim_selector' is set "
            "(the domain whose selector._domainkey TXT record holds the public key)"
        )
    if email.dkim_domain and not email.dkim_selector:
        raise ConfigError(
            f"{file}: 'email.dkim_selector' is required when 'email.dkim_domain' is set"
        )
    if email.dkim_key_file and not email.dkim_selector:
        raise ConfigError(
            f"{file}: 'email.dkim_key_file' is set but 'email.dkim_selector' is not: "
            "set dkim_selector and dkim_domain to sign with it"
        )
    for key, value in (
        ("email.dkim_selector", email.dkim_selector),
        ("email.dkim_domain", email.dkim_domain),
    ):
        if value and not _DNS_NAME.match(value):
            raise ConfigError(f"{file}: '{key}' must be a DNS name, got \"{value}\"")
    if not email.dkim_key_env.strip():
        raise ConfigError(f"{file}: 'email.dkim_key_env' must name an environment variable")


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
    _check(cfg, p)
    return cfg


def _check_database(cfg: Config, file: Path) -> None:
    """A database URL names a known engine and never holds a password (PGPASSWORD or
    ~/.pgpass do: a config file is often world-readable or kept in git)."""
    if "://" not in cfg.database and not cfg.database.startswith("sqlite:"):
        return
    try:
        backend_name(cfg.database)
    except ConfigError as exc:
        raise ConfigError(f"{file}: 'database': {exc}") from None
    if has_password(cfg.database):
        raise ConfigError(
            f"{file}: 'database' must not hold a password; put it in PGPASSWORD or ~/.pgpass "
            "(or the whole URL in DIGEST_DATABASE_URL)"
        )


def _check(cfg: Config, file: Path) -> None:
    """Checks that go beyond types: URLs, enumerations, ranges, time zones, cron."""
    _check_database(cfg, file)
    if not _url_ok(cfg.site_url):
        raise ConfigError(f"{file}: 'site_url' must be an http(s) URL, got \"{cfg.site_url}\"")
    check_sources(cfg.sources, file)
    _positive(
        file,
        (
            ("http.timeout_s", cfg.http.timeout_s),
            ("http.arxiv_min_interval_s", cfg.http.arxiv_min_interval_s),
            ("trending.top_n", cfg.trending.top_n),
            ("trending.window_days", cfg.trending.window_days),
            ("trending.rising_ratio", cfg.trending.rising_ratio),
            ("trending.max_theme_share", cfg.trending.max_theme_share),
            ("trending.diverse_min_themes", cfg.trending.diverse_min_themes),
            ("themes.lsa_components", cfg.themes.lsa_components),
            ("themes.kmeans_restarts", cfg.themes.kmeans_restarts),
            ("themes.min_theme_size", cfg.themes.min_theme_size),
            ("themes.max_themes", cfg.themes.max_themes),
            ("render.feed_days", cfg.render.feed_days),
            ("render.summary_sentences", cfg.render.summary_sentences),
            ("email.rate_per_s", cfg.email.rate_per_s),
            ("max_listing_bytes", cfg.max_listing_bytes),
            ("topics.threshold", cfg.topics.threshold),
            ("topics.active_days", cfg.topics.active_days),
            ("topics.page_days", cfg.topics.page_days),
            ("topics.rising_ratio", cfg.topics.rising_ratio),
            ("weekly.top_papers", cfg.weekly.top_papers),
        ),
        strict=True,
    )
    _positive(
        file,
        (
            ("trending.weight_upvotes", cfg.trending.weight_upvotes),
            ("trending.weight_position", cfg.trending.weight_position),
            ("trending.weight_seen_days", cfg.trending.weight_seen_days),
            ("trending.weight_momentum", cfg.trending.weight_momentum),
            ("trending.diversity", cfg.trending.diversity),
            ("themes.background_days", cfg.themes.background_days),
            ("themes.background_max_papers", cfg.themes.background_max_papers),
            ("themes.prior_papers", cfg.themes.prior_papers),
            ("topics.rising_min_papers", cfg.topics.rising_min_papers),
            ("themes.k_tolerance", cfg.themes.k_tolerance),
            ("themes.consensus_runs", cfg.themes.consensus_runs),
        ),
        strict=False,
    )
    if cfg.trending.max_theme_share > 1:
        raise ConfigError(
            f"{file}: 'trending.max_theme_share' is a share of the batch, at most 1, "
            f"got {cfg.trending.max_theme_share}"
        )
    if not 0 <= cfg.personal.trending_weight <= 10:
        raise ConfigError(
            f"{file}: 'personal.trending_weight' must be between 0 and 10, "
            f"got {cfg.personal.trending_weight}"
        )
    if not 1 <= cfg.email.connections <= 16:
        raise ConfigError(
            f"{file}: 'email.connections' must be between 1 and 16, got {cfg.email.connections}"
        )
    if not 1 <= cfg.personal.max_items <= 10:
        raise ConfigError(
            f"{file}: 'personal.max_items' must be between 1 and 10, got {cfg.personal.max_items}"
        )
    if cfg.render.max_email_bytes < 10_000:
        raise ConfigError(
            f"{file}: 'render.max_email_bytes' must be at least 10000 (header and footer "
            f"alone take several KB), got {cfg.render.max_email_bytes}"
        )
    if cfg.render.templates_dir and not cfg.resolve(cfg.render.templates_dir).is_dir():
        raise ConfigError(
            f"{file}: 'render.templates_dir' is not a folder: "
            f"{cfg.resolve(cfg.render.templates_dir)}"
        )
    if cfg.http.retries < 0:
        raise ConfigError(f"{file}: 'http.retries' must be 0 or more, got {cfg.http.retries}")
    _check_live(cfg, file)
    if cfg.smtp.security not in ("starttls", "ssl", "none"):
        raise ConfigError(
            f"{file}: 'smtp.security' must be starttls, ssl or none, got \"{cfg.smtp.security}\""
        )
    if not 0 < cfg.smtp.port < 65536:
        raise ConfigError(f"{file}: 'smtp.port' must be a TCP port, got {cfg.smtp.port}")
    if cfg.schedule.email_caught_up not in ("newest", "all", "none"):
        raise ConfigError(
            f"{file}: 'schedule.email_caught_up' must be newest, all or none, got \"{cfg.schedule.email_caught_up}\""
        )
    try:
        ZoneInfo(cfg.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{file}: 'schedule.timezone' is not an IANA time zone: \"{cfg.schedule.timezone}\""
        ) from None
    _check_schedule(cfg, file)
    if cfg.weekly.weekday not in WEEKDAYS:
        raise ConfigError(
            f"{file}: 'weekly.weekday' must be one of {', '.join(WEEKDAYS)}, "
            f'got "{cfg.weekly.weekday}"'
        )
    if cfg.topics.threshold > 1:
        raise ConfigError(
            f"{file}: 'topics.threshold' must be between 0 and 1, got {cfg.topics.threshold}"
        )
    if "@" not in cfg.email.from_addr:
        raise ConfigError(
            f"{file}: 'email.from_addr' must be an email address, got \"{cfg.email.from_addr}\""
        )
    _check_delivery(cfg, file)
    if cfg.channels:
        from digest.deliver.channels import check_config  # each kind checks its own keys

        check_config(cfg.channels, file)


def _check_schedule(cfg: Config, file: Path) -> None:
    from digest.calendar import parse_cron  # imports APScheduler's cron trigger only when checking

    sch = cfg.schedule
    try:
        parse_cron(sch.cron, sch.timezone)
    except ValueError as exc:
        raise ConfigError(
            f"{file}: 'schedule.cron' must be a crontab line like \"30 7 * * *\", "
            f'got "{sch.cron}" ({exc})'
        ) from None
    if sch.catch_up_days < 0:
        raise ConfigError(
            f"{file}: 'schedule.catch_up_days' must be 0 or more, got {sch.catch_up_days}"
        )
    if sch.misfire_grace_s <= 0:
        raise ConfigError(
            f"{file}: 'schedule.misfire_grace_s' must be greater than 0, got {sch.misfire_grace_s}"
        )


def _check_live(cfg: Config, file: Path) -> None:
    """Checks of ``[http]`` (each source's keys are checked by its kind: digest.sources.registry)."""
    h = cfg.http
    _positive(
        file,
        (
            ("http.total_timeout_s", h.total_timeout_s),
            ("http.max_backoff_s", h.max_backoff_s),
            ("http.max_bytes", h.max_bytes),
        ),
        strict=True,
    )
    if h.backoff_s < 0:
        raise ConfigError(f"{file}: 'http.backoff_s' must be 0 or more, got {h.backoff_s}")
    if not h.user_agent.strip() or any(c in h.user_agent for c in "\r\n"):
        raise ConfigError(f"{file}: 'http.user_agent' must be one non-empty line")
