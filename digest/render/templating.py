"""The Jinja environment: bundled templates from the ``digest.templates`` package,
overridable file by file from ``render.templates_dir``; autoescaping for HTML and XML."""

from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2

from digest.config import Config
from digest.context import CONTEXT
from digest.errors import DigestError
from digest.render.text import md_escape, md_url, plural, rfc822, rfc3339, wrap

# Where each subscriber's own preferences link goes in the email (delivery splices it, like
# the unsubscribe URL); a global, so every email template has it without being passed it.
PREFERENCES_PLACEHOLDER = "%%PREFERENCES_URL%%"


class RenderError(DigestError):
    """A template that cannot be loaded or rendered (usually an overridden one)."""


def _bundled(name: str) -> str | None:
    node = resources.files("digest.templates").joinpath(*name.split("/"))
    return node.read_text(encoding="utf-8") if node.is_file() else None


def environment(templates_dir: str = "") -> jinja2.Environment:
    """One environment per override folder, kept for the process in :data:`CONTEXT` (its
    templates compiled once: the measured reason is in ``digest/context.py``); bundled
    templates are the fallback for every name."""
    return CONTEXT.environment(templates_dir, _new_environment)


def _new_environment(templates_dir: str) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FunctionLoader(_bundled)]
    if templates_dir:
        loaders.insert(0, jinja2.FileSystemLoader(templates_dir))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        # .txt is the plain-text email: escaping would print &amp; to the reader
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(wrap=wrap, rfc822=rfc822, rfc3339=rfc3339, md=md_escape, mdurl=md_url)
    env.globals.update(plural=plural, preferences_url=PREFERENCES_PLACEHOLDER)
    return env


def env_for(config: Config) -> jinja2.Environment:
    folder = config.render.templates_dir
    return environment(str(config.resolve(folder)) if folder else "")


def render(config: Config, name: str, **context: Any) -> str:
    """Render template ``name``; a broken template becomes a one-line :class:`RenderError`."""
    try:
        return env_for(config).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template not found: {exc.name}") from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"template {name}: {exc.message}") from None
