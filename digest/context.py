"""What one process keeps between days: the only caches the stages hold beyond a call.

Issue 12: keep a cache only if a benchmark shows it saves at least 10% of the daily run, a
send, or the year's backfill, measured with and without in one run. A process has one
:data:`CONTEXT`; :meth:`ProcessContext.reset` empties it and ``enabled`` switches a cache
off by name, so that ``bench/bench_caches.py`` times each one with and without.

Measured (``.venv/bin/python bench/bench_caches.py --days 30``, 2026-12-06, CPU seconds of
``find_themes`` over 30 real days, 7,267 papers, 7 days of background, two alternated runs
each, on a shared loaded 2-core machine): all caches 6.1 s; without ``word_tokens`` 7.3 s
(it saves 16%); without ``doc_tokens`` 8.8 s (31%); without either 16.8 s (64%). Both
also serve the stages after themes in the same process (trending places the window,
which is the same papers as the IDF background; topics; personal features). The bundled
background model (``background_model``) was dropped once for 5.6% of the themes stage, but
themes, labels, topics and personal features each read it, for every day: over a backfill
it saves 23-33% (``bench/bench_backfill.py --no-search --days 60 --jobs 1 [--without
background_model]``, alternated, 2026-12-06, load 3.4-4.4: 21.2 and 16.5 s CPU without, 14.2
and 12.7 s with; 16.3x and 16.4x the floor's CPU without, 11.1x and 12.4x with). The
Jinja environments are the render stage's (measured in bench/bench_render.py, below).
Not measured with and without on the whole backfill (14 minutes a run on this machine).
The PostgreSQL backend's memos of translated statements were measured and dropped (1.00x
the client's CPU of a year's ingest without them: ``digest/store/backends/postgresql.py``),
and so were the store's decoded papers (0.5% of a backfill: ``digest/store/paper_reads.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

    from digest.themes.background import BackgroundModel

# the caches by name, for ``enabled`` and the benchmark
WORD_TOKENS = "word_tokens"
DOC_TOKENS = "doc_tokens"
JINJA_ENVIRONMENTS = "jinja_environments"
JINJA_BYTECODE = "jinja_bytecode"  # on disk, not in memory: a switch for the benchmarks
BACKGROUND_MODEL = "background_model"
NAMES = (WORD_TOKENS, DOC_TOKENS, JINJA_ENVIRONMENTS, JINJA_BYTECODE, BACKGROUND_MODEL)

WORDS_SIZE = 200_000  # distinct words of a year of arXiv abstracts: ~150,000
_DOCS_SIZE = 8192  # a week of store background (1,000 papers) and its days, several times over


@dataclass
class ProcessContext:
    """The per-process caches (mutable on purpose: it is the one place state lives).

    * ``word_tokens``: word -> its themes token ("" for a stop-word), so the stemmer's
      Python suffix loop runs once per distinct word (16% of the themes stage, above).
    * ``doc_tokens``: cleaned document -> (its tokens, its distinct tokens). The same papers
      come back for a week as store background of the IDF (up to 1,000 a day), so without
      it a backfill tokenizes about four times its corpus again (31%, above).
    * ``jinja_environments``: templates folder -> its Jinja environment, with the templates
      it compiled. A 250-paper day's render_day + render_site takes 177 ms with it and
      1,040 ms with each template compiled afresh (``bench/bench_render.py``, one run, load
      ~9): every day of a backfill and of the scheduler's life would pay that again.
    * ``jinja_bytecode`` (no state here: a switch): Jinja's bytecode cache in ``var/jinja/``
      (``digest/render/templating.py``), which spares each new process the compile of the
      templates it renders; ``bench/bench_daily.py --cold-templates`` times a daily run
      without it.
    * ``background_models``: the bundled background model by path (a ``.npz`` of ~28,000
      terms, read and indexed ~4 times a day by themes, labels, topics and personal
      features): 23-33% of a backfill's CPU (above).
    """

    enabled: set[str] = field(default_factory=lambda: set(NAMES))
    word_tokens: dict[str, str] = field(default_factory=dict)
    doc_tokens: OrderedDict[str, tuple[tuple[str, ...], frozenset[str]]] = field(
        default_factory=OrderedDict
    )
    jinja_environments: dict[str, jinja2.Environment] = field(default_factory=dict)
    background_models: dict[str, BackgroundModel | None] = field(default_factory=dict)

    def reset(self, enabled: tuple[str, ...] = NAMES) -> None:
        """Empty every cache; keep only the ``enabled`` ones from now on."""
        self.enabled = set(enabled)
        self.word_tokens.clear()
        self.doc_tokens.clear()
        self.jinja_environments.clear()
        self.background_models.clear()

    def has_doc(self, doc: str) -> bool:
        """Whether the tokens of ``doc`` are kept (``tokens_of_doc`` would not make them)."""
        return DOC_TOKENS in self.enabled and doc in self.doc_tokens

    def tokens_of_doc(
        self, doc: str, make: Callable[[str], tuple[str, ...]]
    ) -> tuple[tuple[str, ...], frozenset[str]]:
        if DOC_TOKENS not in self.enabled:
            made = make(doc)
            return made, frozenset(made)
        found = self.doc_tokens.get(doc)
        if found is None:
            if len(self.doc_tokens) >= _DOCS_SIZE:
                self.doc_tokens.popitem(last=False)  # the oldest: papers come back for a week
            made = make(doc)
            found = self.doc_tokens[doc] = (made, frozenset(made))
        return found

    def environment(
        self, folder: str, make: Callable[[str], jinja2.Environment]
    ) -> jinja2.Environment:
        if JINJA_ENVIRONMENTS not in self.enabled:
            return make(folder)
        found = self.jinja_environments.get(folder)
        if found is None:
            found = self.jinja_environments[folder] = make(folder)
        return found

    def background_model(
        self, path: str, make: Callable[[str], BackgroundModel | None]
    ) -> BackgroundModel | None:
        if BACKGROUND_MODEL not in self.enabled:
            return make(path)
        if path not in self.background_models:
            self.background_models[path] = make(path)
        return self.background_models[path]


CONTEXT = ProcessContext()
