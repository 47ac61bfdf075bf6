"""LaTeX in titles and abstracts comes out as readable text."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from digest.render.latex import latex_to_text

COMMAND = re.compile(r"\\[A-Za-z]")
# text reaches the renderer cleaned at ingest (models.clean_space): none of these is left
CLEANED_AWAY = "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF]))
CLEANED_AWAY += "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # the four cases of the seed listings
        (
            "Ocean Climate Variability across $CO_2$ forcing",
            "Ocean Climate Variability across CO₂ forcing",
        ),
        (r"A Large-Scale Exploration of $\mu$-Transfer", "A Large-Scale Exploration of μ-Transfer"),
        ("A Large-Scale Exploration of $μ$-Transfer", "A Large-Scale Exploration of μ-Transfer"),
        (r"\textit{Revelio}: Interpreting", "Revelio: Interpreting"),
        (r"$\textit{Revelio}$: Interpreting", "Revelio: Interpreting"),
        (
            r"Compression via $\frac{\ell_1}{\ell_2}$ Regularized",
            "Compression via ℓ₁/ℓ₂ Regularized",
        ),
        # sub- and superscripts that Unicode has, and those it lacks
        (r"$x^2$ and $\mathbb{R}^d$", "x² and ℝᵈ"),
        (r"$O(n^{1.5})$", "O(n^1.5)"),
        (r"$W_{q}$", "W_q"),
        (r"90$^\circ$ and $A^\top$", "90° and Aᵀ"),
        (r"$\sqrt{d_k}$", "√dₖ"),
        (r"$\frac{a+b}{2}$", "(a+b)/2"),
        # symbols, escapes, accents
        (r"up to 10\% with $\sim$3$\times$ fewer", "up to 10% with ∼3× fewer"),
        (r"$\alpha$-$\beta$ \& $\Omega$", "α-β & Ω"),
        (r"Schr\"odinger, G\"{o}del, \'{e}t\'e, na\"ive", "Schrödinger, Gödel, été, naïve"),
        (r"\v{S}koda and \c{c}a", "Škoda and ça"),
        (r"$\mathcal{O}(n \log n)$", "O(n log n)"),
        (r"$\left( x \right)$", "(x)"),
        # formatting, links, references
        (
            r"\textbf{Bold} and \emph{emph} and {\em old} \texttt{code\_name}",
            "Bold and emph and old code_name",
        ),
        (
            r"see \href{https://x.org}{our code} or \url{https://y.org}",
            "see our code or https://y.org",
        ),
        (r"as shown~\cite{smith2020} in Fig.~\ref{fig:1}", "as shown in Fig."),
        (r"\textcolor{red}{hot} \unicode{x2713}", "hot ✓"),
        (r"a footnote\footnote{dropped entirely} here", "a footnote here"),
        (r"our \method{} beats \ours", "our method beats ours"),
        ("``quoted'' -- and --- dashes", "“quoted” – and — dashes"),
        # broken input still gives text
        (r"{unbalanced \textbf{bold", "unbalanced bold"),
        ("stray }} braces", "stray braces"),
        ("it costs $5", "it costs $5"),
        (r"a \$ sign", "a $ sign"),
        ("trailing backslash \\", "trailing backslash"),
        ("", ""),
        ("  plain   title\n wrapped ", "plain title wrapped"),
    ],
)
def test_latex_examples(source: str, expected: str) -> None:
    assert latex_to_text(source) == expected


def test_plain_text_is_only_tidied() -> None:
    title = "GENNAPE: Towards Generalized Neural Architecture Performance Estimators"
    assert latex_to_text(title) == title
    assert latex_to_text("Ünïcödé – “quotes” & <b>tags</b>") == "Ünïcödé – “quotes” & <b>tags</b>"


_ATOMS = st.sampled_from(
    [
        "$", "$$", "\\(", "\\)", "{", "}", "^", "_", "~", "\\", "\\\\", "\\$", "\\{", "\\}", "\\%",
        "\\frac", "\\sqrt", "\\textit", "\\textbf{", "\\href", "\\mu", "\\ell", "\\'", '\\"',
        "\\unicode", "\\cite", "\\begin", "\\foo", "\\mathbb", "\\left(", "\\right)", "[", "]",
        "a", "x", "1", "2", " ", "é", "μ", "-", "--", ".", "\n",
    ]
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.lists(_ATOMS, max_size=40).map("".join) | st.text(max_size=80))
@example("\\frac{\\frac{a}{")
@example("$\\sqrt[3]{$")
@example("\\unicode{x110000}")
@example("\\unicode{xD800}")
def test_never_crashes_and_never_leaves_markup(source: str) -> None:
    out = latex_to_text(source)
    assert isinstance(out, str)
    assert "\\" not in out
    assert COMMAND.search(out) is None
    # braces and dollars survive only when the source escaped them (\{ \} \$) or a $ is unpaired
    assert out.count("{") <= source.count("\\{")
    assert out.count("}") <= source.count("\\}")
    assert out.count("$") <= source.count("\\$") + 1
    assert out == out.strip()
    assert "  " not in out


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(
            blacklist_characters="\\$^_{}~`'-" + CLEANED_AWAY, blacklist_categories=("Cs",)
        ),
        max_size=60,
    )
)
def test_text_without_markup_keeps_its_words(source: str) -> None:
    assert latex_to_text(source).split() == source.split()


def test_real_arxiv_titles_and_abstracts(shared: Path) -> None:
    """Three real days of arXiv listings: no LaTeX command survives in any title or abstract."""
    days = sorted((shared / "data" / "arxiv-daily").glob("*.jsonl.gz"))[:3]
    checked = 0
    for path in days:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                for text in (row["title"], row["summary"]):
                    out = latex_to_text(text)
                    assert COMMAND.search(out) is None, (text, out)
                    assert "\\" not in out
                    checked += 1
    assert checked > 1000


_MARKUP = "\\${}^_~"  # any of them sends a text through the LaTeX reader
_PLAIN = st.characters(
    blacklist_characters=CLEANED_AWAY + _MARKUP + "-`'", blacklist_categories=("Cs",)
)


@given(st.text(_PLAIN))
def test_plain_text_only_has_its_spaces_collapsed(text: str) -> None:
    assert latex_to_text(text) == re.sub(r"\s+", " ", text).strip()


@given(st.lists(st.sampled_from(["-", "--", "---", "`", "``", "'", "''", "a", " "]), max_size=30)
       .map("".join) | st.text(_PLAIN, max_size=40))  # fmt: skip
def test_tex_dashes_and_quotes_as_replaced_one_after_another(text: str) -> None:
    expected = text
    for old, new in (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”")):
        expected = expected.replace(old, new)
    assert latex_to_text(text) == re.sub(r"\s+", " ", expected).strip()


@given(
    st.lists(
        st.sampled_from(["(", "[", ")", "]", ",", ".", ";", ":", "!", "?", " ", "  ", "a"])
    ).map("".join)
)
def test_math_leaves_no_space_before_closing_punctuation_nor_after_opening(text: str) -> None:
    """Once LaTeX is read (here ``$x$``), spaces collapse and punctuation is spaced as
    typeset: none before , . ; : ! ? ) ] and none after ( [."""
    collapsed = re.sub(r"\s+", " ", f"x {text}").strip()
    expected = re.sub(r"([(\[]) +", r"\1", re.sub(r" +([,.;:!?)\]])", r"\1", collapsed))
    assert latex_to_text(f"$x$ {text}") == expected
