"""What an HTML page says, as blocks in reading order: headings and paragraphs, each in its region.

The paper is told from the page furniture by what HTML and the usual article
pages mark (arXiv's LaTeXML pages, PubMed Central, publishers, hand-written
pages):

- left out: scripts, styles, forms, ``<nav>``, ``<aside>``, ``<footer>``,
  a ``<header>`` that holds no ``<h1>``, what is hidden (``hidden``,
  ``aria-hidden="true"``, ``display: none``, screen-reader-only text), ARIA
  navigation/banner/search/dialog roles, and elements whose class names say
  cookie banner, navigation bar, breadcrumb, sharing, advert, sidebar, related
  articles (:func:`is_furniture`); footnotes (as the JATS reader leaves out
  ``<fn-group>``);
- the content is the ``<article>``/``<main>`` that holds most of the page's
  text (the page's ``<body>`` when none holds most of it);
- regions: the abstract (a class or id naming it: ``ltx_abstract``,
  ``abstract``, ``Abs1``), the reference list (``ltx_bibliography``,
  ``ref-list``, ``references``), the front matter (authors, affiliations,
  dates, keywords) and back matter (acknowledgements, appendices, funding);
- figures and data tables are left out of the text; their captions are kept
  apart; a LaTeXML equation table is a display formula;
- maths is its ``alttext`` (LaTeX, on LaTeXML's and many publishers'
  ``<math>``), else its TeX annotation (KaTeX), else its tokens' text; MathJax
  2's ``<script type="math/tex">`` is its TeX and its rendered glyphs are left out.

A paragraph is the text between two block elements (``<p>``, ``<div>``,
``<li>``, a table cell, ...); a ``<br>`` inside it starts a new line of it.
"""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set

from ._build import clean
from .html_tree import Element

BODY, ABSTRACT, REFERENCES, FRONT = "body", "abstract", "references", "front"
HEADINGS = {f"h{n}": n for n in range(1, 7)}

#: Elements left out with everything in them.
DROP_TAGS = frozenset(
    "head script style noscript template iframe object embed canvas svg button input select textarea option label "
    "nav aside footer dialog map audio video source picture img meta link title".split()
)
BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main nav ol p pre section summary table tbody "
    "td tfoot th thead tr ul #document".split()
)
#: Containers that are a section of the paper (their nesting gives a heading's depth).
SECTION_TAGS = frozenset({"section", "article"})
#: ARIA roles of page furniture.
FURNITURE_ROLES = frozenset("navigation banner contentinfo complementary search dialog alertdialog toolbar menu menubar".split())
#: Words of a class name that mark page furniture.
FURNITURE_WORDS = frozenset(
    "cookie cookies consent gdpr newsletter breadcrumb breadcrumbs advert advertisement adverts ads sidebar toolbar "
    "navbar nav navigation menu popup modal promo subscribe login signin share sharing social skip skiplink "
    "banner altmetric".split()
)
#: Words of an id that mark page furniture (ids are often made from headings, so fewer words count).
FURNITURE_ID_WORDS = frozenset(
    "cookie cookies consent gdpr newsletter breadcrumb breadcrumbs advert advertisement sidebar toolbar navbar "
    "skiplink".split()
)
SCREEN_READER_ONLY = frozenset({"sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text", "screen-reader-only", "d-none"})
FOOTNOTE_WORDS = frozenset({"footnote", "footnotes", "fn", "ltx_note"})
#: Words of a class name that mark front matter (ids: only the unambiguous ones).
FRONT_WORDS = frozenset(
    "authors author affiliation affiliations byline contributors contrib keywords kwd dates classification "
    "copyright license licence".split()
)
FRONT_ID_WORDS = frozenset({"authors", "affiliations", "keywords"})
#: Words of a class name or id that mark back matter.
BACK_WORDS = frozenset(
    "ack acknowledgment acknowledgments acknowledgement acknowledgements appendix appendices funding supplementary".split()
)
FIGURE_CLASSES = frozenset({"fig", "figure", "table-wrap", "tw", "figure-wrap", "fig-wrap", "ltx_figure", "ltx_table", "ltx_float"})
_STYLE_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_WORD_SPLIT = re.compile(r"[\s_\-:.]+")
_ABS_ID = re.compile(r"^abs\d+$", re.IGNORECASE)
#: Marks that pages put after a heading as a link to it.
_PERMALINK = re.compile(r"(\s+#|[\u00b6\u00a7\U0001f517])+\s*$")


class _Break:
    """A line break (``<br>``) inside a paragraph."""


BR = _Break()


@dataclass
class Block:
    kind: str  # "heading" or "paragraph"
    lines: List[str]
    region: str
    rank: int = 0  # a heading's number: 1 for <h1>
    depth: int = 0  # sections around a heading
    back: bool = False  # inside back matter (acknowledgements, appendix)
    group: int = 0  # which abstract (or other region) container it came from
    title_class: bool = False  # LaTeXML's document title

    @property
    def text(self) -> str:
        return clean(" ".join(self.lines))


@dataclass
class PageContent:
    blocks: List[Block] = field(default_factory=list)
    captions: List[str] = field(default_factory=list)
    meta: Dict[str, str] = field(default_factory=dict)  # <meta name|property> -> content, and "<title>"
    first_h1: Optional[str] = None  # the page's first <h1>, wherever it is


def class_words(element: Element) -> Set[str]:
    return {w for w in _WORD_SPLIT.split(element.get("class").lower()) if w}


def _class_tokens(element: Element) -> Set[str]:
    return set(element.get("class").lower().split())


def _id_words(element: Element) -> Set[str]:
    return {w for w in _WORD_SPLIT.split(element.get("id").lower()) if w}


def is_hidden(element: Element) -> bool:
    return (
        "hidden" in element.attrs
        or element.get("aria-hidden").strip().lower() == "true"
        or bool(_STYLE_HIDDEN.search(element.get("style")))
        or bool(_class_tokens(element) & SCREEN_READER_ONLY)
    )


def is_furniture(element: Element) -> bool:
    """Page furniture: left out with everything in it."""
    tag = element.tag
    if tag in DROP_TAGS:
        return True
    if tag == "header" and next(element.iter("h1"), None) is None:
        return True
    if element.get("role").lower() in FURNITURE_ROLES or is_hidden(element):
        return True
    words = class_words(element)
    if words & FURNITURE_WORDS or _id_words(element) & FURNITURE_ID_WORDS:
        return True
    if words & {"page", "site", "global"} and words & {"header", "footer", "logo"}:
        return True  # LaTeXML's ltx_page_header / ltx_page_footer, a site's global header
    if "related" in words and words & {"articles", "article", "content", "links", "items", "posts"}:
        return True
    if words & FOOTNOTE_WORDS or "fn-group" in _class_tokens(element):
        return True
    return False


def _is_math_script(element: Element) -> bool:
    return element.tag == "script" and element.get("type").lower().startswith("math/tex")


def math_text(element: Element) -> str:
    """A formula as text: its alttext, else its TeX annotation, else its tokens' text."""
    for node in element.iter("math"):
        alt = clean(node.get("alttext"))
        if alt:
            return alt
    for node in element.iter("annotation"):
        if "tex" in node.get("encoding").lower():
            return clean(node.text())
    tokens: List[str] = []
    stack = [element]
    while stack:
        node = stack.pop()
        for child in reversed(node.children):
            if isinstance(child, str):
                tokens.append(child)
            elif child.tag not in ("annotation", "annotation-xml"):
                stack.append(child)
    return clean(" ".join(t for t in tokens if t.strip()))


def _region(element: Element) -> Optional[str]:
    """The region a block-level element opens, if any."""
    if element.tag not in BLOCK_TAGS:
        return None
    words = class_words(element) | _id_words(element)
    if "abstract" in words or _ABS_ID.match(element.get("id")):
        return ABSTRACT
    if (words & {"references", "bibliography", "biblist", "reflist"}
            or ("list" in words and words & {"ref", "reference", "citation", "bib"})):
        return REFERENCES
    if (class_words(element) & FRONT_WORDS or _id_words(element) & FRONT_ID_WORDS) and not any(
            node.tag in HEADINGS and node.tag != "h1" for node in element.iter()):
        return FRONT  # (a container of sections is not front matter, whatever its class says)
    return None


def _is_figure(element: Element) -> bool:
    return element.tag == "figure" or bool(_class_tokens(element) & FIGURE_CLASSES)


def _is_equation(element: Element) -> bool:
    return element.tag in ("table", "div") and bool(class_words(element) & {"equation", "equationgroup", "eqn", "eqnarray"})


def _is_data_table(element: Element) -> bool:
    """A table of data, not one that lays out the page (which holds paragraphs or headings)."""
    if element.tag != "table":
        return False
    return not any(node.tag in ("p", "ul", "ol", "blockquote", "section", "article") or node.tag in HEADINGS
                   for node in element.iter())


def _caption(element: Element) -> Optional[Element]:
    for node in element.iter():
        if node is not element and (node.tag in ("figcaption", "caption") or "caption" in class_words(node)):
            return node
    return None


class _Walker:
    def __init__(self, content: PageContent) -> None:
        self.content = content
        self.buffer: List[object] = []
        self.region = BODY
        self.depth = 0
        self.back = False
        self.group = 0
        self.inline_only = 0
        self.root: Optional[Element] = None  # the content's element, which opens no region

    def flush(self) -> None:
        if self.inline_only:
            self.buffer.append(" ")
            return
        lines, line = [], []
        for piece in self.buffer + [BR]:
            if piece is BR:
                text = clean("".join(line))
                if text:
                    lines.append(text)
                line = []
            else:
                line.append(piece)
        self.buffer = []
        if lines:
            self.content.blocks.append(Block("paragraph", lines, self.region, back=self.back, group=self.group))

    def inline(self, element: Element) -> str:
        """The text of ``element`` on one line (a heading's, a caption's)."""
        saved, self.buffer = self.buffer, []
        self.inline_only += 1
        try:
            self.walk(element)
            return clean("".join(piece for piece in self.buffer if piece is not BR))
        finally:
            self.inline_only -= 1
            self.buffer = saved

    def walk(self, element: Element) -> None:
        for child in element.children:
            if isinstance(child, str):
                self.buffer.append(child)
            else:
                self.visit(child)

    def visit(self, element: Element) -> None:
        tag = element.tag
        if tag == "br":
            self.buffer.append(BR if not self.inline_only else " ")
            return
        if tag == "math" or _is_math_script(element) or (tag == "mjx-container" and next(element.iter("math"), None)):
            self.buffer.append(math_text(element) if tag != "script" else clean(element.text()))
            return
        if is_furniture(element) or tag.startswith("mjx-") or "mathjax" in {w[:7] for w in class_words(element)}:
            return
        if _is_equation(element):
            self.flush()
            formulas = [math_text(node) for node in element.iter("math")]
            self.buffer.append(" ".join(f for f in formulas if f))
            self.flush()
            return
        if _is_figure(element) or _is_data_table(element):
            caption = _caption(element)
            if caption is not None and not self.inline_only:
                text = self.inline(caption)
                if text:
                    self.content.captions.append(text)
            return
        if tag in HEADINGS:
            if self.inline_only:
                self.walk(element)
                return
            self.flush()
            text = _PERMALINK.sub("", self.inline(element))
            if text:
                words = class_words(element)
                self.content.blocks.append(Block(
                    "heading", [text], self.region, rank=HEADINGS[tag], depth=self.depth, back=self.back,
                    group=self.group, title_class="ltx_title_document" in _class_tokens(element) or (
                        "title" in words and "document" in words)))
            return
        if tag not in BLOCK_TAGS:
            self.walk(element)
            if _class_tokens(element) & {"label", "ltx_tag"}:
                self.buffer.append(" ")  # a number set apart by the page's style: "[1] Author", "1. Author"
            return
        self.flush()
        saved = (self.region, self.depth, self.back, self.group)
        region = _region(element) if not self.inline_only and element is not self.root else None
        if region and (self.region == BODY or (self.region == FRONT and region == ABSTRACT)):
            self.region = region
            self.group += 1
        words = class_words(element) | _id_words(element)
        if words & BACK_WORDS:
            self.back = True
        if tag in SECTION_TAGS or words & {"section", "sec", "subsection"}:
            self.depth += 1
        self.walk(element)
        self.flush()
        self.region, self.depth, self.back, self.group = saved[0], saved[1], saved[2], max(saved[3], self.group)


def _visible_size(element: Element) -> int:
    """How many characters of text a reader sees under ``element`` (furniture left out)."""
    size = 0
    stack = [element]
    while stack:
        node = stack.pop()
        for child in node.children:
            if isinstance(child, str):
                size += len(child.strip())
            elif not is_furniture(child):
                stack.append(child)
    return size


def _ancestors(element: Element):
    node = element.parent
    while node is not None:
        yield node
        node = node.parent


def _shown(element: Element) -> bool:
    return not is_furniture(element) and not any(is_furniture(a) for a in _ancestors(element))


def content_root(body: Element) -> Element:
    """The ``<article>``/``<main>`` that holds most of the text: the smallest of those holding at
    least 60% of the largest one's text, when that is at least 30% of the body's."""
    candidates = [el for el in body.iter() if (el.tag in ("article", "main") or el.get("role").lower() == "main")
                  and el is not body and _shown(el)]
    if not candidates:
        return body
    sizes = [(_visible_size(el), el) for el in candidates]
    largest = max(size for size, _ in sizes)
    if largest < 0.3 * _visible_size(body) or largest == 0:
        return body
    return min((item for item in sizes if item[0] >= 0.6 * largest), key=lambda item: item[0])[1]


def _head_meta(document: Element) -> Dict[str, str]:
    meta: Dict[str, str] = {}
    for node in document.iter("meta"):
        key = (node.get("name") or node.get("property")).strip().lower()
        value = clean(node.get("content"))
        if key and value and key not in meta:
            meta[key] = value
    title = next(document.iter("title"), None)
    if title is not None and clean(title.text()):
        meta["<title>"] = clean(title.text())
    return meta


def page_content(document: Element) -> PageContent:
    """The blocks of the page's content, its captions and its head's metadata."""
    content = PageContent(meta=_head_meta(document))
    body = next(document.iter("body"), None) or document
    root = content_root(body)
    walker = _Walker(content)
    for h1 in body.iter("h1"):
        if _shown(h1):
            content.first_h1 = walker.inline(h1) or None
            break
    if root is not body:
        # An abstract placed outside the article element (some publishers' pages) is still the paper's.
        inside = set(map(id, root.iter())) | set(map(id, _ancestors(root)))
        for node in body.iter():
            if id(node) not in inside and _region(node) == ABSTRACT and _shown(node) and not any(
                    _region(a) == ABSTRACT for a in _ancestors(node)):
                walker.visit(node)
    walker.root = root
    walker.visit(root)
    walker.flush()
    return content


__all__ = ["Block", "PageContent", "page_content", "math_text", "is_furniture"]
