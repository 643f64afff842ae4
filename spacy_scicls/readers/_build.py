"""Assembling a paper's parts into a ``Doc``.

Every structured reader fills a :class:`Paper` (title, abstract, sections in
reading order) and :func:`paper_to_doc` lays it out as text: the title, a
blank line, the abstract under an "Abstract" heading, then each section,
its heading on a line of its own, its paragraphs separated by blank lines.
Each section becomes a span of ``doc.spans["sections"]`` that starts at its
heading line and ends before the next section's heading.
"""
import re
from dataclasses import dataclass, field
from typing import AbstractSet, Dict, List, Optional
from xml.etree.ElementTree import Element

from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup

from ..extensions import install_extensions

# Label of a section whose IMRaD role the format does not state; the
# scicls_sections component replaces it.
UNLABELLED = "unlabelled"
SPANS_KEY = "sections"

_SPACE = re.compile(r"\s+")


def clean(text: Optional[str]) -> str:
    """Collapse runs of white space (line breaks of a PDF or of XML layout) to one space."""
    return _SPACE.sub(" ", text or "").strip()


def element_text(element: Element, skip: AbstractSet[str], breaks: AbstractSet[str] = frozenset()) -> str:
    """The running text of an XML ``element``, white space collapsed: the elements of its subtree
    whose tag is in ``skip`` (figures, tables, formulas) are left out but the text after them is
    kept; an element whose tag is in ``breaks`` (a line break) stands for a space."""
    out = []

    def walk(node: Element) -> None:
        if node is not element and node.tag in skip:
            if node.tail:
                out.append(node.tail)
            return
        if node.tag in breaks:
            out.append(" ")
        if node.text:
            out.append(node.text)
        for child in node:
            walk(child)
        if node.tail and node is not element:
            out.append(node.tail)

    walk(element)
    return clean("".join(out))


@dataclass
class Section:
    heading: Optional[str]
    paragraphs: List[str] = field(default_factory=list)
    level: int = 1
    label: Optional[str] = None


@dataclass
class Paper:
    format: str
    source: Optional[str] = None
    id: Optional[str] = None
    title: Optional[str] = None
    abstract: List[str] = field(default_factory=list)
    categories: List[str] = field(default_factory=list)
    sections: List[Section] = field(default_factory=list)
    extra: Dict = field(default_factory=dict)

    def add_section(self, heading: Optional[str], level: int = 1, label: Optional[str] = None) -> Section:
        section = Section(clean(heading) or None, [], level, label)
        self.sections.append(section)
        return section

    def add_paragraph(self, text: str) -> None:
        """Add a paragraph to the current section (a section without heading if there is none)."""
        text = clean(text)
        if not text:
            return
        if not self.sections:
            self.add_section(None)
        self.sections[-1].paragraphs.append(text)


def meta(paper: Paper) -> Dict:
    out = {
        "id": paper.id,
        "title": clean(paper.title) or None,
        "abstract": "\n\n".join(clean(p) for p in paper.abstract if clean(p)) or None,
        "categories": list(paper.categories),
        "format": paper.format,
        "source": paper.source,
    }
    out.update(paper.extra)
    return out


def paper_to_doc(paper: Paper, nlp: Language) -> Doc:
    install_extensions()
    parts: List[str] = []
    pieces = []  # (start_char, end_char, heading, level, label)
    length = 0

    def emit(text: str) -> int:
        nonlocal length
        start = length
        parts.append(text)
        length += len(text)
        return start

    def block(lines: List[str]) -> None:
        if length:
            emit("\n\n")
        emit("\n\n".join(lines))

    title = clean(paper.title)
    if title:
        block([title])
    abstract = [clean(p) for p in paper.abstract if clean(p)]
    if abstract:
        if length:
            emit("\n\n")
        start = emit("Abstract\n")
        emit("\n\n".join(abstract))
        pieces.append((start, length, "Abstract", 1, "abstract"))
    for section in paper.sections:
        if section.heading is None and not section.paragraphs:
            continue
        if length:
            emit("\n\n")
        start = length
        if section.heading is not None:
            emit(section.heading + ("\n" if section.paragraphs else ""))
        emit("\n\n".join(section.paragraphs))
        pieces.append((start, length, section.heading, section.level, section.label))
    text = "".join(parts)
    doc = nlp.make_doc(text)
    spans = []
    for start, end, heading, level, label in pieces:
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None or len(span) == 0:
            continue
        span = Span(doc, span.start, span.end, label=label or UNLABELLED)
        span._.heading = heading
        span._.section_level = level
        spans.append(span)
    doc.spans[SPANS_KEY] = SpanGroup(doc, name=SPANS_KEY, spans=spans)
    doc._.scicls_meta = meta(paper)
    return doc
