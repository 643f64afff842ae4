"""An HTML page (a paper as a browser shows it) into a :class:`Paper`, or a text for the heading finder.

The page is decoded and parsed (:mod:`spacy_scicls.readers.html_tree`), its
content told from its furniture (:mod:`spacy_scicls.readers.html_blocks`),
then laid out as the other structured readers lay out a paper:

- title: the page's ``citation_title`` / ``dc.title`` metadata (which
  publishers, PMC and bioRxiv write), else LaTeXML's document title, the
  page's only ``<h1>``, ``og:title``, its first ``<h1>``, its ``<title>``;
- abstract: the region a class or id names so (the first such whose heading
  is "Abstract" or "Summary", or none), else the paragraphs under a heading
  "Abstract" before the first section, else the ``citation_abstract``
  metadata; a second abstract-like region (an author summary) is a section;
- sections: one per heading (``<h1>``-``<h6>``), the heading's text as it
  stands (numbering kept), its depth from the heading's rank (``<h2>`` above
  ``<h3>``, the highest rank used is level 1), or, where every heading has the
  same rank, from the ``<section>`` elements around it; a section in back matter
  (acknowledgements, appendices) is labelled ``other``;
- left out of the text, kept in ``doc._.scicls_meta``: the reference list
  (its region, or the section under a "References" heading: ``references``,
  one entry per item), the front matter before the abstract (authors,
  affiliations: ``front_matter``), figure and table captions (``captions``);
  ``sections_from`` says where the sections came from, ``encoding`` and
  ``encoding_from`` how the bytes were decoded.

A page with fewer than two section headings (a blog-like page, or one whose
headings are bold paragraphs) has no sections from its structure: its text
is given with each block and each ``<br>`` on a line of its own, and
``doc.spans["sections"]`` is left empty, so that the ``scicls_sections``
component finds the headings in the text as it does in plain text
(``sections_from`` is ``"text"``).
"""
import re
from typing import List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, SpanGroup

from ._build import SPANS_KEY, Paper, clean, paper_to_doc
from .html_blocks import ABSTRACT, BODY, FRONT, REFERENCES, Block, PageContent, page_content
from .html_tree import UTF16_BOMS, decode_html, parse_html

#: Fewer section headings than this and the page's text goes to the heading finder.
MIN_HEADINGS = 2
_NUMBERING = re.compile(r"^\s*((\d+|[ivxlc]+|[a-z])([.)]|\.\d+)*\.?\s+|§\s*)", re.IGNORECASE)
ABSTRACT_NAMES = re.compile(r"^(abstract|summary)\W*$", re.IGNORECASE)
REFERENCES_NAMES = re.compile(
    r"^(references?( and notes| cited| list)?|notes and references|bibliography|literature( cited)?|works cited|"
    r"cited literature|literaturverzeichnis)\W*$", re.IGNORECASE)
_KEYWORDS = re.compile(r"^(key ?words|index terms|subjects?)\b", re.IGNORECASE)


def _name(heading: str) -> str:
    return clean(_NUMBERING.sub("", heading))


def _same(a: Optional[str], b: Optional[str]) -> bool:
    return bool(a and b) and clean(a).casefold() == clean(b).casefold()


def _title(content: PageContent) -> Tuple[Optional[str], Optional[Block]]:
    """The paper's title, and the heading block that shows it (left out of the sections)."""
    meta = content.meta
    declared = meta.get("citation_title") or meta.get("dc.title")
    headings = [b for b in content.blocks if b.kind == "heading" and b.region in (BODY, FRONT)]
    block = next((b for b in headings if b.title_class), None)
    if block is None and declared:
        block = next((b for b in headings[:3] if _same(b.text, declared)), None)
    if block is None and headings and headings[0].rank == 1 and sum(b.rank == 1 for b in headings) == 1:
        block = headings[0]
    page_title = meta.get("<title>")
    if page_title:
        page_title = re.split(r"\s+[|\u2013\u2014-]\s+", page_title)[0]
    title = declared or (block.text if block else None) or meta.get("og:title") or content.first_h1 or page_title
    return title, block


def _main_abstract_group(blocks: List[Block]) -> Optional[int]:
    groups: List[int] = []
    for b in blocks:
        if b.region == ABSTRACT and b.group not in groups:
            groups.append(b.group)
    for group in groups:
        first = next(b for b in blocks if b.region == ABSTRACT and b.group == group)
        if first.kind == "paragraph" or ABSTRACT_NAMES.match(_name(first.text)):
            return group
    return groups[0] if groups else None


class _Layout:
    """The page's blocks sorted into title, abstract, sections, references and front matter."""

    def __init__(self, content: PageContent) -> None:
        self.title, title_block = _title(content)
        self.abstract: List[str] = []
        self.references: List[str] = []
        self.front: List[str] = []
        # ("heading", block, label) and ("paragraph", block) items of the running text, in order
        self.items: List[tuple] = []
        blocks = content.blocks
        main = _main_abstract_group(blocks)
        abstract_at = next((i for i, b in enumerate(blocks) if b.region == ABSTRACT or (
            b.region == BODY and b.kind == "heading" and ABSTRACT_NAMES.match(_name(b.text)))), len(blocks))
        mode, mode_rank, headed_groups = None, 0, set()
        for index, b in enumerate(blocks):
            if b is title_block:
                continue
            if b.region == FRONT:
                if b.kind == "paragraph":
                    self.front.append(b.text)
            elif b.region == REFERENCES:
                if b.kind == "paragraph":
                    self.references.append(b.text)
            elif b.region == ABSTRACT:
                self._abstract_block(b, main, headed_groups)
            elif b.kind == "heading":
                if mode and b.rank <= mode_rank:
                    mode = None
                name = _name(b.text)
                if mode == "references":
                    continue
                if mode == "abstract":
                    self.abstract.append(b.text)
                elif REFERENCES_NAMES.match(name):
                    mode, mode_rank = "references", b.rank
                elif ABSTRACT_NAMES.match(name) and not self.abstract and not self.headings():
                    mode, mode_rank = "abstract", b.rank
                else:
                    self.items.append(("heading", b, "other" if b.back else None))
            elif mode == "references":
                self.references.append(b.text)
            elif mode == "abstract":
                self.abstract.append(b.text)
            elif not self.items and index < abstract_at < len(blocks):
                self.front.append(b.text)  # authors, affiliations and dates above the abstract
            elif not self.headings() and _KEYWORDS.match(b.text):
                self.front.append(b.text)
            else:
                self.items.append(("paragraph", b))
        if not self.abstract and content.meta.get("citation_abstract"):
            self.abstract.append(content.meta["citation_abstract"])

    def _abstract_block(self, b: Block, main: Optional[int], headed_groups: set) -> None:
        first_of_group = b.group not in headed_groups
        headed_groups.add(b.group)
        if b.group == main:
            if not (b.kind == "heading" and first_of_group and ABSTRACT_NAMES.match(_name(b.text))):
                self.abstract.append(b.text)  # a structured abstract's sub-headings stay as lines of it
        elif b.kind == "heading" and first_of_group:
            self.items.append(("heading", b, None))  # an author summary, a second abstract: a section
        elif any(item[0] == "heading" and item[1].group == b.group for item in self.items):
            self.items.append(("paragraph", b))
        else:
            self.abstract.append(b.text)

    def headings(self) -> List[Block]:
        return [item[1] for item in self.items if item[0] == "heading"]


def _levels(headings: List[Block]) -> List[int]:
    """Each heading's depth: its rank below the highest rank used (``<h2>`` 1, ``<h3>`` 2, ... when the
    sections are ``<h2>``), or its ``<section>`` nesting where all share one rank. A rank skipped
    (``<h4>`` under ``<h2>``, as under a section without a heading) is a level skipped."""
    use_depth = len({b.rank for b in headings}) == 1 and len({b.depth for b in headings}) > 1
    keys = [b.depth if use_depth else b.rank for b in headings]
    top = min(keys)
    return [key - top + 1 for key in keys]


def looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if sample.startswith(UTF16_BOMS):
        return False
    control = sum(1 for byte in sample if byte < 0x20 and byte not in b"\t\n\r\f\v")
    return b"\x00" in sample or control > max(8, len(sample) // 20)


def read_html(data: bytes, paper: Paper, encoding: Optional[str] = None) -> bool:
    """Fill ``paper`` from the page's bytes; True when its headings made the sections.
    ``encoding``: the page's encoding when it declares none and is not UTF-8."""
    if not data.strip():
        raise ValueError("is empty")
    if looks_binary(data):
        raise ValueError("binary content, not an HTML page (NUL or control bytes)")
    decoded = decode_html(data, encoding)
    content = page_content(parse_html(decoded.text))
    layout = _Layout(content)
    meta = content.meta
    paper.title = layout.title
    paper.id = meta.get("citation_doi") or meta.get("dc.identifier") or None
    paper.abstract = layout.abstract
    headings = layout.headings()
    structured = len(headings) >= MIN_HEADINGS
    if structured:
        levels = iter(_levels(headings))
        for item in layout.items:
            if item[0] == "heading":
                paper.add_section(item[1].text, next(levels), item[2])
            else:
                paper.add_paragraph(item[1].text)
    else:
        section = paper.add_section(None)
        for item in layout.items:
            section.paragraphs.extend(clean(line) for line in item[1].lines if clean(line))
    if not (paper.abstract or any(s.paragraphs or s.heading for s in paper.sections)):
        raise ValueError("holds no text (once the page's navigation, scripts and other furniture are left out)")
    paper.extra.update({
        "sections_from": "headings" if structured else "text",
        "references": layout.references or None,
        "captions": content.captions or None,
        "front_matter": "\n".join(layout.front) or None,
        **decoded.meta(),
    })
    return structured


def html_doc(data: bytes, name: str, nlp: Language, encoding: Optional[str] = None) -> Doc:
    """The page as a ``Doc`` (see the module); a page without headings has no section spans."""
    paper = Paper(format="html", source=name)
    structured = read_html(data, paper, encoding)
    doc = paper_to_doc(paper, nlp)
    if not structured:
        doc.spans[SPANS_KEY] = SpanGroup(doc, name=SPANS_KEY, spans=[])
    return doc
