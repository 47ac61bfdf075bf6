"""The value checks of a loaded ``Config``, beyond the types ``digest.configload`` checks:
URLs, enumerations, ranges, time zones, cron lines, DKIM names, the database URL. Each
failure is one ``ConfigError`` line naming the file and the key. :func:`check` runs in
``digest.config.load_config``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from digest.config import WEEKDAYS, Config, EmailConfig
from digest.configload import positive as _positive
from digest.configload import url_ok as _url_ok
from digest.errors import ConfigError
from digest.sources.registry import check_sources
from digest.store.backends import backend_name, has_password

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


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


def check(cfg: Config, file: Path) -> None:
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
