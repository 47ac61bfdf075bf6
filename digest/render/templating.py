"""The Jinja environment: bundled templates from the ``digest.templates`` package,
overridable file by file from ``render.templates_dir``; autoescaping for HTML and XML.

Compiled templates are kept between processes by Jinja's own bytecode cache
(``jinja2.FileSystemBytecodeCache``) in ``var/jinja/`` beside the output folder, where the
SQLite database lives (never inside the output: it is served). Every ``digest run`` is a
fresh process that renders about 20 templates; compiling them costs about 0.35 s of CPU
(``bench/bench_daily.py --cold-templates``, 2026-12-06, load 7.8: an arXiv day without
search 2.66 s with ``var/jinja/`` removed, 2.31 s with it, medians of 5). Jinja keys each entry by template name and file and checks
the source's SHA-1, so an edited template is compiled again; entries are written to a
temporary file and renamed, so two processes starting at once never read half an entry;
the file names carry the Jinja version and the environment's options, which change the
compiled code. A cache folder that cannot be made, read or written costs the compile and
nothing else."""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from digest.config import Config
from digest.context import CONTEXT, JINJA_BYTECODE
from digest.errors import DigestError
from digest.render.text import md_escape, md_url, plural, rfc822, rfc3339, wrap

# Where each subscriber's own preferences link goes in the email (delivery splices it, like
# the unsubscribe URL); a global, so every email template has it without being passed it.
PREFERENCES_PLACEHOLDER = "%%PREFERENCES_URL%%"


BYTECODE_FOLDER = "jinja"  # in var/ beside the output folder
# what changes the compiled code besides the template's source: part of the cache file names
_AUTOESCAPED = ("html", "xml")
_OPTIONS: dict[str, Any] = {
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}
_BYTECODE_PATTERN = "digest-{}-%s.cache".format(
    hashlib.sha1(
        repr((jinja2.__version__, sorted(_OPTIONS.items()), _AUTOESCAPED)).encode(),
        usedforsecurity=False,
    ).hexdigest()[:12]
)


class RenderError(DigestError):
    """A template that cannot be loaded or rendered (usually an overridden one)."""


class BytecodeFolder(jinja2.FileSystemBytecodeCache):
    """Jinja's file-system bytecode cache in a folder made on first write; a folder that
    cannot be made, read or written means templates are compiled, as without a cache."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            # only its owner may write code that Jinja will load (as Jinja's own default)
            Path(self.directory).mkdir(mode=0o700, parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass  # read-only or full: the next process compiles again


def _bundled(name: str) -> str | None:
    node = resources.files("digest.templates").joinpath(*name.split("/"))
    return node.read_text(encoding="utf-8") if node.is_file() else None


def environment(templates_dir: str = "", bytecode_dir: str = "") -> jinja2.Environment:
    """One environment per override folder (and bytecode folder), kept for the process in
    :data:`CONTEXT` (its templates loaded once: the measured reason is in
    ``digest/context.py``); bundled templates are the fallback for every name. With
    ``bytecode_dir``, compiled templates are kept there between processes."""
    return CONTEXT.environment(
        f"{templates_dir}\0{bytecode_dir}", lambda _: _new_environment(templates_dir, bytecode_dir)
    )


def _new_environment(templates_dir: str, bytecode_dir: str) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FunctionLoader(_bundled)]
    if templates_dir:
        loaders.insert(0, jinja2.FileSystemLoader(templates_dir))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        # .txt is the plain-text email: escaping would print &amp; to the reader
        autoescape=jinja2.select_autoescape(_AUTOESCAPED, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=BytecodeFolder(bytecode_dir, _BYTECODE_PATTERN) if bytecode_dir else None,
        **_OPTIONS,
    )
    env.filters.update(wrap=wrap, rfc822=rfc822, rfc3339=rfc3339, md=md_escape, mdurl=md_url)
    env.globals.update(plural=plural, preferences_url=PREFERENCES_PLACEHOLDER)
    return env


def bytecode_folder(config: Config) -> Path:
    """Where compiled templates are kept: ``var/jinja/`` beside the output folder."""
    out = config.output_path
    return out.parent / "var" / BYTECODE_FOLDER


def env_for(config: Config) -> jinja2.Environment:
    """The environment of ``config``, looked up by the config's own strings: resolving its
    paths for each of a day's ~300 renders cost 20-60 ms of a daily run (cProfile)."""
    bytecode = JINJA_BYTECODE in CONTEXT.enabled
    key = "\0".join(
        (
            config.render.templates_dir,
            config.output_dir,
            str(config.path),
            os.getcwd(),
            str(bytecode),
        )
    )
    return CONTEXT.environment(key, lambda _: _environment_of(config, bytecode))


def _environment_of(config: Config, bytecode: bool) -> jinja2.Environment:
    folder = config.render.templates_dir
    templates = str(config.resolve(folder)) if folder else ""
    return environment(templates, str(bytecode_folder(config)) if bytecode else "")


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
