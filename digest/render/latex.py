"""LaTeX in titles and abstracts -> readable Unicode text.

Paper titles and abstracts arrive with the authors' LaTeX: ``$CO_2$``,
``$\\mu$-Transfer``, ``\\textit{Revelio}``, ``$\\frac{\\ell_1}{\\ell_2}$``.
:func:`latex_to_text` turns that into what a reader expects to see (CO₂,
μ-Transfer, Revelio, ℓ₁/ℓ₂). It is a forgiving reader, not a TeX engine: any
input gives text, unbalanced braces and dollars included, and the output never
holds a backslash command, a brace group or a math delimiter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from digest.models import clean_space


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ",
    "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "varpi": "ϖ", "rho": "ρ",
    "varrho": "ϱ", "sigma": "σ", "varsigma": "ς", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ",
    "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip

_SYMBOLS = {
    "times": "×", "pm": "±", "mp": "∓", "sim": "∼", "approx": "≈", "simeq": "≃", "cong": "≅",
    "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠", "ne": "≠", "ll": "≪", "gg": "≫",
    "equiv": "≡", "propto": "∝", "rightarrow": "→", "to": "→", "leftarrow": "←", "gets": "←",
    "Rightarrow": "⇒", "Leftarrow": "⇐", "leftrightarrow": "↔", "Leftrightarrow": "⇔",
    "longrightarrow": "⟶", "mapsto": "↦", "implies": "⇒", "iff": "⇔", "uparrow": "↑",
    "downarrow": "↓", "infty": "∞", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆",
    "supset": "⊃", "cup": "∪", "cap": "∩", "emptyset": "∅", "varnothing": "∅", "forall": "∀",
    "exists": "∃", "neg": "¬", "land": "∧", "lor": "∨", "wedge": "∧", "vee": "∨",
    "cdot": "·", "cdots": "⋯", "ldots": "…", "dots": "…", "vdots": "⋮", "circ": "∘",
    "bullet": "•", "star": "⋆", "ast": "∗", "dagger": "†", "ddagger": "‡", "ell": "ℓ",
    "hbar": "ℏ", "nabla": "∇", "partial": "∂", "sum": "∑", "prod": "∏", "int": "∫",
    "oint": "∮", "sqrt": "√", "mid": "|", "vert": "|", "Vert": "‖", "parallel": "∥",
    "perp": "⊥", "top": "⊤", "bot": "⊥", "langle": "⟨", "rangle": "⟩", "lceil": "⌈",
    "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋", "prime": "′", "degree": "°", "checkmark": "✓",
    "oplus": "⊕", "otimes": "⊗", "odot": "⊙", "setminus": "∖", "aleph": "ℵ", "Re": "ℜ",
    "Im": "ℑ", "wp": "℘", "triangle": "△", "square": "□", "diamond": "⋄", "lbrace": "{",
    "rbrace": "}", "backslash": "∖", "S": "§", "P": "¶", "copyright": "©", "textregistered": "®",
    "texttrademark": "™", "textdegree": "°", "textasciitilde": "~", "textbackslash": "∖",
    "textendash": "–", "textemdash": "—", "textbullet": "•", "textquoteleft": "‘",
    "textquoteright": "’", "textquotedblleft": "“", "textquotedblright": "”", "dag": "†",
    "ddag": "‡", "textperthousand": "‰", "euro": "€", "pounds": "£", "textless": "<",
    "textgreater": ">", "textbar": "|", "ss": "ß", "ae": "æ", "AE": "Æ", "oe": "œ",
    "OE": "Œ", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "l": "ł", "L": "Ł", "i": "ı",
    "LaTeX": "LaTeX", "TeX": "TeX", "eg": "e.g.", "ie": "i.e.", "etal": "et al.", "etc": "etc.",
    "vs": "vs.", "wrt": "w.r.t.", "quad": " ", "qquad": " ", "enspace": " ", "newline": " ",
    "par": " ", "linebreak": " ", "nobreak": "", "log": "log", "ln": "ln", "exp": "exp",
    "max": "max", "min": "min", "sin": "sin", "cos": "cos", "tan": "tan", "lim": "lim",
    "arg": "arg", "argmax": "argmax", "argmin": "argmin", "sup": "sup", "inf": "inf",
    "det": "det", "dim": "dim", "deg": "deg", "Pr": "Pr", "ker": "ker", "tanh": "tanh",
}  # fmt: skip

# switches and spacing that only change how text looks: dropped
_DROP = _words(
    "em bf it tt rm sc sf sl up md bfseries itshape ttfamily scshape sffamily rmfamily upshape "
    "normalfont small large Large LARGE huge Huge tiny scriptsize footnotesize normalsize "
    "displaystyle textstyle scriptstyle scriptscriptstyle limits nolimits left right big Big "
    "bigg Bigg bigl bigr Bigl Bigr biggl biggr middle centering noindent hfill vfill "
    "protect relax maketitle smallskip medskip bigskip xspace ignorespaces allowbreak "
    "clearpage newpage onecolumn twocolumn item"
)

# commands whose first argument is the text to keep
_KEEP_ARG = _words(
    "text textit textbf textsl textsc textsf texttt textrm textup textmd textnormal emph "
    "mathrm mathbf mathit mathsf mathtt mathcal mathscr mathfrak boldsymbol bm pmb mbox hbox "
    "fbox underline uline textbfit operatorname mathop mathbin mathrel mathord overline "
    "widetilde widehat url nolinkurl uppercase lowercase MakeUppercase MakeLowercase "
    "textnormal small textsuperscript textsubscript"
)

# commands whose arguments are all dropped (references, colours, spacing lengths)
_DROP_ARGS = {
    "cite": 1, "citep": 1, "citet": 1, "citealp": 1, "citeauthor": 1, "ref": 1, "eqref": 1,
    "cref": 1, "Cref": 1, "autoref": 1, "label": 1, "footnote": 1, "thanks": 1, "footnotemark": 0,
    "color": 1, "vspace": 1, "hspace": 1, "phantom": 1, "hphantom": 1, "vphantom": 1,
    "begin": 1, "end": 1, "includegraphics": 1, "ding": 1, "fontsize": 2, "selectfont": 0,
    "setlength": 2, "renewcommand": 2, "newcommand": 2, "kern": 0, "raisebox": 1,
}  # fmt: skip

# commands with (dropped target, kept text) arguments
_SECOND_ARG = _words("href hyperlink textcolor colorbox hyperref")

_ACCENTS = {
    "'": "\u0301", "`": "\u0300", '"': "\u0308", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331", "hat": "\u0302", "tilde": "\u0303",
    "bar": "\u0304", "vec": "\u20d7", "dot": "\u0307", "ddot": "\u0308", "acute": "\u0301",
    "grave": "\u0300", "breve": "\u0306", "check": "\u030c",
}  # fmt: skip

_ESCAPED = {
    "%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", ",": " ", ";": " ",
    ":": " ", ">": " ", "!": "", " ": " ", "\\": " ", "/": "", "-": "", "@": "", "|": "‖",
}  # fmt: skip

_SUPER = dict(zip("0123456789+-=()niT*'", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ*′", strict=True))
_SUPER.update({"′": "′", "∗": "*", "⊤": "ᵀ", "†": "†", "∘": "°", "°": "°", "a": "ᵃ", "b": "ᵇ"})
_SUPER.update(dict(zip("cdefghjklmoprstuvwxyz", "ᶜᵈᵉᶠᵍʰʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", strict=True)))
_SUB = dict(
    zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_SUB.update({"β": "ᵦ", "γ": "ᵧ", "ρ": "ᵨ", "ϕ": "ᵩ", "φ": "ᵩ", "χ": "ᵪ"})

_BLACKBOARD = dict(zip("RNZQCPE", "ℝℕℤℚℂℙ𝔼", strict=True))

_TOKEN = re.compile(
    r"\\([A-Za-z]+)\*?"  # a command word
    r"|\\(.)"  # an escaped character or a one-character command
    r"|(\$\$|\\\(|\\\)|\\\[|\\\]|\$)"  # math delimiters
    r"|([{}^_~])"  # structure
    r"|([^\\${}^_~]+)",  # plain text
    re.S,
)
# on collapsed text (single spaces): a space is dropped before closing punctuation
_SPACE_BEFORE_PUNCT = re.compile(r" (?=[,.;:!?)\]])")


def latex_to_text(source: str) -> str:
    """``source`` with its LaTeX turned into plain Unicode text; spaces collapsed."""
    if not source:
        return ""
    if not _has_markup(source):
        return _collapse_spaces(_ligatures(source))
    tokens = list(_tokens(source))
    out = _Reader(tokens).read_all()
    out = unicodedata.normalize("NFC", out)
    return _tidy_punctuation(_collapse_spaces(out))


def _tidy_punctuation(text: str) -> str:
    """``text`` (spaces collapsed) without a space before , . ; : ! ? ) ] or after ( [."""
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    if "( " in text:  # plain replacements: four times faster than a pattern here
        text = text.replace("( ", "(")
    if "[ " in text:
        text = text.replace("[ ", "[")
    return text


def _has_markup(text: str) -> bool:
    # unrolled: a generator over the seven characters cost more than the scans themselves
    return (
        "\\" in text
        or "$" in text
        or "{" in text
        or "}" in text
        or "^" in text
        or "_" in text
        or "~" in text
    )


def _collapse_spaces(text: str) -> str:
    """Runs of whitespace as one space, none at the ends: ``re.sub(r"\\s+", " ", text).strip()``
    (all three split on str.isspace); ``clean_space`` returns a tidy text without rebuilding it."""
    return clean_space(text)


def _ligatures(text: str) -> str:
    """Dashes and quotes typed the TeX way (---, --, ``, '') as the characters TeX prints."""
    # a one-character scan runs at memchr speed, a two-character one far slower: look for
    # the pair only where its character occurs (and no "--" means no "---" either)
    if "-" in text and "--" in text:
        text = text.replace("---", "—").replace("--", "–")
    if "`" in text and "``" in text:
        text = text.replace("``", "“")
    if "'" in text and "''" in text:
        text = text.replace("''", "”")
    return text


def _tokens(source: str) -> Iterator[tuple[str, str]]:
    for m in _TOKEN.finditer(source):
        word, escaped, delim, struct, text = m.groups()
        if word is not None:
            yield ("cmd", word)
        elif escaped is not None:
            if escaped in "()[]":  # \( \) \[ \] are caught by the delimiter group first
                yield ("math", "\\" + escaped)
            else:
                yield ("esc", escaped)
        elif delim is not None:
            yield ("math", delim)
        elif struct is not None:
            yield ("struct", struct)
        else:
            yield ("text", text)


_CLOSERS = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}


class _Reader:
    """Recursive descent over the token list; ``math`` says whether ^ and _ are scripts."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0
        # a lone $ (odd count) is a dollar sign, not the start of math that never ends
        self.math_ok = self._pairable()

    def _pairable(self) -> set[int]:
        """Token indexes of math delimiters that have a partner; an opener without one is text."""
        delims = [(n, v) for n, (kind, v) in enumerate(self.tokens) if kind == "math"]
        ok: set[int] = set()
        k = 0
        while k < len(delims):
            n, value = delims[k]
            closer = _CLOSERS.get(value)
            partner = None
            if closer is not None:
                partner = next(
                    (j for j in range(k + 1, len(delims)) if delims[j][1] == closer), None
                )
            if partner is None:
                k += 1  # not an opener, or one that never closes: try the next delimiter
                continue
            ok.update((n, delims[partner][0]))
            k = partner + 1
        return ok

    def read_all(self) -> str:
        parts = []
        while self.i < len(self.tokens):
            parts.append(self._item(math=False, stop=None))
        return "".join(parts)

    def _group(self, math: bool) -> str:
        """Items until the matching ``}`` (or the end of input); the ``{`` is consumed already."""
        parts = []
        while self.i < len(self.tokens):
            if self.tokens[self.i] == ("struct", "}"):
                self.i += 1
                break
            parts.append(self._item(math, stop=None))
        return "".join(parts)

    def _math(self, closer: str) -> str:
        parts = []
        while self.i < len(self.tokens):
            kind, value = self.tokens[self.i]
            if kind == "math" and value == closer:
                self.i += 1
                break
            if kind == "math":  # a stray delimiter inside math: skip it
                self.i += 1
                continue
            parts.append(self._item(math=True, stop=closer))
        return "".join(parts)

    def _argument(self, math: bool) -> str:
        """The next argument: a brace group, a command, or one character of text."""
        while self.i < len(self.tokens) and self.tokens[self.i] == ("text", " "):
            self.i += 1
        if self.i >= len(self.tokens):
            return ""
        kind, value = self.tokens[self.i]
        if kind == "struct" and value == "{":
            self.i += 1
            return self._group(math)
        if kind == "text":
            value = value.lstrip()
            if len(value) > 1:
                self.tokens[self.i] = ("text", value[1:])
            else:
                self.i += 1
            return value[:1]
        if kind in ("cmd", "esc"):
            return self._item(math, stop=None)
        return ""

    def _optional_argument(self) -> None:
        """Skip a ``[...]`` option after a command."""
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "text":
            text = self.tokens[self.i][1]
            if text.startswith("[") and "]" in text:
                rest = text[text.index("]") + 1 :]
                if rest:
                    self.tokens[self.i] = ("text", rest)
                else:
                    self.i += 1

    def _item(self, math: bool, stop: str | None) -> str:
        kind, value = self.tokens[self.i]
        self.i += 1
        if kind == "text":
            if math:
                return value
            return _ligatures(value)
        if kind == "math":
            if self.i - 1 in self.math_ok and value in _CLOSERS:
                return self._math(_CLOSERS[value])
            # a lone $ is a dollar sign ("costs $5"); other lone delimiters are dropped
            return "$" if value == "$" else ""
        if kind == "struct":
            if value == "{":
                return self._group(math)
            if value == "}":
                return ""
            if value == "~":
                return " "
            if not math:
                return value
            return _script(self._argument(math), superscript=value == "^")
        if kind == "esc":
            if value in _ACCENTS:
                return _accent(self._argument(math), value)
            return _ESCAPED.get(value, value if value.isprintable() else "")
        return self._command(value, math)

    def _command(self, name: str, math: bool) -> str:
        if name in _ACCENTS and len(name) > 1 or name in "uvHckrdb" and len(name) == 1:
            return _accent(self._argument(math), name)
        if name in _GREEK:
            return _GREEK[name]
        if name in _SYMBOLS:
            if name == "sqrt":
                self._optional_argument()
                return "√" + _wrap(self._argument(math))
            return _SYMBOLS[name]
        if name in _DROP:
            return ""
        if name == "frac" or name in ("dfrac", "tfrac", "nicefrac"):
            top, bottom = self._argument(math), self._argument(math)
            return f"{_wrap(top)}/{_wrap(bottom)}"
        if name == "mathbb" or name == "mathds":
            arg = self._argument(math)
            return "".join(_BLACKBOARD.get(c, c) for c in arg)
        if name == "textsuperscript":
            return _script(self._argument(math), superscript=True)
        if name == "textsubscript":
            return _script(self._argument(math), superscript=False)
        if name in _KEEP_ARG:
            self._optional_argument()
            return self._argument(math)
        if name in _SECOND_ARG:
            self._argument(math)
            return self._argument(math)
        if name in _DROP_ARGS:
            self._optional_argument()
            for _ in range(_DROP_ARGS[name]):
                self._argument(math)
            return ""
        if name == "unicode":
            return _codepoint(self._argument(math))
        # an author's own macro (\method, \ours): its name is the best guess at the text
        return name


def _wrap(part: str) -> str:
    """Parenthesise a fraction part unless it is one symbol or one word."""
    part = part.strip()
    if len(part) <= 1 or re.fullmatch(r"[\w.′]+", part):
        return part
    return f"({part})"


def _script(arg: str, superscript: bool) -> str:
    arg = arg.strip()
    if not arg:
        return ""
    table = _SUPER if superscript else _SUB
    if all(c in table for c in arg):
        return "".join(table[c] for c in arg)
    mark = "^" if superscript else "_"
    return mark + (arg if len(arg) == 1 else f"({arg})" if " " in arg else arg)


def _accent(arg: str, accent: str) -> str:
    if not arg:
        return ""
    return arg[0] + _ACCENTS[accent] + arg[1:]


def _codepoint(arg: str) -> str:
    arg = arg.strip()
    try:
        code = int(arg[1:], 16) if arg[:1] in ("x", "X") else int(arg)
        char = chr(code)
    except (ValueError, OverflowError):
        return ""
    return char if char.isprintable() else ""
