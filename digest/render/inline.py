"""The email's CSS inlined: premailer's output, for the usual email without premailer.

premailer (3.10, :data:`PREMAILER_OPTIONS`) copies the rules of the ``<style>`` block
onto the elements they select and leaves in the block what cannot be inlined (@media,
:hover). When every rule selects by tag and classes alone, what an element receives
depends on its tag and ``class`` attribute and nothing else, so one premailer pass tells
what every element of that kind gets. Later emails with the same stylesheet and only
known kinds are parsed, given those styles and serialized as premailer would, at a
fifth of the cost (premailer runs each selector over the whole tree and merges every
element's styles again). Anything else (other selectors, inline ``style`` attributes, a
kind not seen yet, images, a second style block) goes to premailer, and teaches.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from premailer import Premailer

PREMAILER_OPTIONS: dict[str, Any] = {
    "allow_network": False,
    # keep !important on the leftover @media rules, or dark mode loses to inline styles
    "strip_important": False,
    "cssutils_logging_level": logging.CRITICAL,
    "disable_validation": True,
    "remove_classes": False,
    # no bgcolor/width/align copied from the CSS: the template writes the few that
    # Outlook needs itself, and premailer would also put them where HTML forbids them
    "disable_basic_attributes": ["bgcolor", "width", "height", "align", "valign"],
}

# the attributes premailer (3.10) may copy from an element's inlined style
_BASIC_ATTRIBUTES = frozenset({"bgcolor", "width", "height", "align", "valign"})
_CACHE_SIZE = 8  # stylesheets remembered per process

# a rule premailer inlines that looks at nothing but the tag and the classes
_TAG_AND_CLASSES = re.compile(r"(?:[A-Za-z][A-Za-z0-9]*)?(?:\.[A-Za-z_][\w-]*)*")

_Kind = tuple[str, str | None]  # tag, class attribute as written


def inline_css(html: str) -> str:
    """CSS of the ``<style>`` block copied onto elements; @media and :hover rules stay in it."""
    known = _inline_known_kinds(html)
    if known is not None:
        return known
    inlined = str(_KeptRulesPremailer(html, **PREMAILER_OPTIONS).transform())
    _learn(html, inlined)
    return inlined


@dataclass
class _Stylesheet:
    """What premailer did with one stylesheet: the style of each kind of element seen so
    far ("" for none) and the text left in the ``<style>`` block (None: block removed)."""

    styles: dict[_Kind, str]
    leftover: str | None


# per stylesheet text; None: its rules do not select by kind alone, premailer it is
_LEARNED: dict[str, _Stylesheet | None] = {}


def forget_styles() -> None:
    """Drop what premailer taught (tests that count premailer passes start from nothing)."""
    _LEARNED.clear()


def _parse(html: str) -> tuple[Any, Any, Any]:
    """The tree, its root element and what to serialize, the way premailer parses."""
    stripped = html.strip()
    tree = etree.fromstring(stripped, etree.HTMLParser()).getroottree()
    page = tree.getroot()
    return tree, page, tree if stripped.startswith(tree.docinfo.doctype) else page


def _elements(page: Any) -> list[Any] | None:
    """The elements premailer may style, or None when premailer must see the page itself:
    a style block that is not one plain ``<style>``, inline styles, images (premailer
    aligns floating ones), no ``<head>`` (premailer makes one)."""
    found, blocks, head = [], 0, False
    for element in page.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        if tag == "style":
            blocks += 1
            if element.attrib:
                return None
            continue
        if tag == "img" or "style" in element.attrib:
            return None
        head = head or tag == "head"
        found.append(element)
    return found if blocks == 1 and head else None


def _inline_known_kinds(html: str) -> str | None:
    if not html.strip():
        return None
    try:
        tree, page, root = _parse(html)
    except (etree.ParserError, ValueError):
        return None  # premailer says what is wrong
    blocks = list(page.iter("style"))
    if len(blocks) != 1 or blocks[0].attrib or next(page.iter("head"), None) is None:
        return None
    block = blocks[0]
    learned = _LEARNED.get(block.text or "")
    if learned is None:
        return None
    # one pass over the elements: styled as they come, since a page we give up on is
    # thrown away (premailer parses its own)
    styles = learned.styles
    for element in page.iter(etree.Element):
        tag = element.tag
        if tag == "style":
            continue
        attributes = element.attrib
        if tag == "img" or "style" in attributes:
            return None
        style = styles.get((tag, attributes.get("class")))
        if style is None:
            return None  # a kind premailer has not shown yet
        if style:
            attributes["style"] = style
    if learned.leftover is None:
        block.getparent().remove(block)
    else:
        block.text = learned.leftover
    # premailer's own serialization (premailer.transform with its defaults)
    return str(etree.tostring(root, method="html", pretty_print=True, encoding="utf-8").decode())


def _learn(html: str, inlined: str) -> None:
    """Keep what premailer gave each kind of element of ``html`` (``inlined``), when the
    stylesheet's inlined rules select by tag and classes alone."""
    try:
        _, page, _ = _parse(html)
        _, out_page, _ = _parse(inlined)
    except (etree.ParserError, ValueError):
        return
    if _elements(page) is None:
        return
    css = next(page.iter("style")).text or ""
    if css in _LEARNED and _LEARNED[css] is None:
        return
    probe = _KeptRulesPremailer("<html></html>", **PREMAILER_OPTIONS)
    rules, _ = probe._parse_style_rules(css, 0)
    if not all(_TAG_AND_CLASSES.fullmatch(selector) for _, selector, _ in rules):
        _remember(css, None)
        return
    blocks = list(out_page.iter("style"))
    if len(blocks) > 1:
        return
    leftover = (blocks[0].text or "") if blocks else None
    learned = _LEARNED.get(css) or _Stylesheet({}, leftover)
    if learned.leftover != leftover:
        _remember(css, None)  # cannot happen with kind-only rules: trust premailer alone
        return
    for element in out_page.iter():
        if not isinstance(element.tag, str) or element.tag == "style":
            continue
        kind = (element.tag, element.get("class"))
        style = element.get("style") or ""
        if learned.styles.setdefault(kind, style) != style:
            _remember(css, None)  # as above: two elements of one kind styled apart
            return
    _remember(css, learned)


def _remember(css: str, learned: _Stylesheet | None) -> None:
    if css not in _LEARNED and len(_LEARNED) >= _CACHE_SIZE:
        _LEARNED.pop(next(iter(_LEARNED)))
    _LEARNED[css] = learned


class _KeptRulesPremailer(Premailer):
    """Premailer that turns a stylesheet into rules once per process, not once per email.

    Every email carries the same ``<style>`` block; premailer (3.10) would read its rules
    and write back the leftover @media rules with cssutils each time, about a third of a
    25-paper email's inlining. Both depend on the stylesheet and the fixed options alone.
    """

    _parsed: dict[tuple[str, int], tuple[list[Any], list[Any], str]] = {}

    def _parse_style_rules(self, css_body: str, ruleset_index: int) -> tuple[list, list]:
        key = (css_body, ruleset_index)
        kept = self._parsed.get(key)
        if kept is None:
            rules, leftover = super()._parse_style_rules(css_body, ruleset_index)
            if len(self._parsed) >= _CACHE_SIZE:
                self._parsed.clear()
            kept = self._parsed[key] = (rules, leftover, super()._css_rules_to_string(leftover))
        return list(kept[0]), kept[1]

    def _style_to_basic_html_attributes(
        self, element: Any, style_content: str, force: bool = False
    ) -> None:
        # it runs for every styled element, yet with every attribute it could copy disabled
        # (PREMAILER_OPTIONS) it writes nothing: a sixth of the inlining, skipped
        if not _BASIC_ATTRIBUTES.issubset(self.disable_basic_attributes):
            super()._style_to_basic_html_attributes(element, style_content, force)

    def _css_rules_to_string(self, rules: list[Any]) -> str:
        for _, leftover, text in self._parsed.values():
            if rules is leftover:
                return text
        return str(super()._css_rules_to_string(rules))
