"""What one process keeps between days: the only state the stages hold beyond a call.

Everything here earned its place in a benchmark run with and without it (issue 12: keep a
cache only if it saves at least 10% of the daily run, a send, or the year's backfill); the
figures and the command are in each field's comment and in docs/themes.md ("Caches").
Nothing else in ``digest`` keeps module-level caches.

A process has one :data:`CONTEXT`; :meth:`ProcessContext.reset` empties it (benchmarks time a
cold start, tests isolate themselves), and :attr:`ProcessContext.enabled` can switch a cache
off by name so that ``bench/bench_caches.py`` measures each one with and without, in one run.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from digest.themes.background import BackgroundModel

# the caches by name, for ``enabled`` and the benchmark
WORD_TOKENS = "word_tokens"
DOC_TOKENS = "doc_tokens"
BACKGROUND_MODEL = "background_model"
JINJA_ENVIRONMENTS = "jinja_environments"
NAMES = (WORD_TOKENS, DOC_TOKENS, BACKGROUND_MODEL, JINJA_ENVIRONMENTS)

WORDS_SIZE = 200_000  # distinct words of a year of arXiv abstracts: ~150,000
_DOCS_SIZE = 8192  # a week of store background (1,000 papers) and its days, several times over


@dataclass
class ProcessContext:
    """The per-process caches (mutable on purpose: it is the one place state lives).

    * ``word_tokens``: word -> its themes token ("" for a stop-word), so stemming runs once
      per distinct word. Without it tokenizing is 3.4x slower (a Python suffix loop per word),
      and every stage that reads text tokenizes: measured in ``bench/bench_caches.py``.
    * ``doc_tokens``: cleaned document -> (its tokens, its distinct tokens). The same papers
      come back for a week as store background of the IDF (1,000 a day), so a backfill would
      tokenize four times its corpus again without it (``bench/bench_caches.py``).
    * ``background_model``: the bundled document frequencies, read once (3-10 ms a read,
      and the themes stage, topics and every profile's ranking ask for it).
    * ``jinja_environments``: templates folder -> its Jinja environment, with the templates
      it compiled. A 250-paper day's render_day + render_site takes 177 ms with it and
      1,040 ms with each template compiled afresh (``bench/bench_render.py``, one run, load
      ~9): every day of a backfill and of the scheduler's life would pay that again.
    """

    enabled: set[str] = field(default_factory=lambda: set(NAMES))
    word_tokens: dict[str, str] = field(default_factory=dict)
    doc_tokens: OrderedDict[str, tuple[tuple[str, ...], frozenset[str]]] = field(
        default_factory=OrderedDict
    )
    background_model: dict[str, BackgroundModel | None] = field(default_factory=dict)
    jinja_environments: dict[str, jinja2.Environment] = field(default_factory=dict)

    def reset(self, enabled: tuple[str, ...] = NAMES) -> None:
        """Empty every cache; keep only the ``enabled`` ones from now on."""
        self.enabled = set(enabled)
        self.word_tokens.clear()
        self.doc_tokens.clear()
        self.background_model.clear()
        self.jinja_environments.clear()

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

    def model(self, key: str, load: Callable[[], Any]) -> Any:
        if BACKGROUND_MODEL not in self.enabled:
            return load()
        if key not in self.background_model:
            self.background_model[key] = load()
        return self.background_model[key]

    def environment(
        self, folder: str, make: Callable[[str], jinja2.Environment]
    ) -> jinja2.Environment:
        if JINJA_ENVIRONMENTS not in self.enabled:
            return make(folder)
        found = self.jinja_environments.get(folder)
        if found is None:
            found = self.jinja_environments[folder] = make(folder)
        return found


CONTEXT = ProcessContext()
