"""TEI XML (GROBID's full-text output, and GROBID's training files) into a :class:`Paper`.

GROBID output: ``teiHeader`` gives the title (``titleStmt/title``), the
abstract (``profileDesc/abstract``), the DOI (``idno type="DOI"``); the body
is a sequence of ``<div>`` each with a ``<head n="2.1">`` and ``<p>``
elements; ``<back>`` holds acknowledgements and annexes (the bibliography is
left out). GROBID's training files have ``<head>`` and ``<p>`` directly in
``<text>``: each ``<head>`` starts a section. The depth of a section comes
from nested ``<div>`` or from the dots of its number ("2.1" is level 2).
"""
from typing import Optional
from xml.etree.ElementTree import Element

from ._build import Paper, clean, element_text

SKIP = {"figure", "table", "listBibl", "note", "formula", "graphic"}
BACK_TYPES = {"acknowledgement": "Acknowledgements", "annex": None, "funding": "Funding",
              "availability": "Data availability"}


def text_of(element: Element) -> str:
    """The running text of ``element``, without figures, tables, notes and formulas; ``<lb/>`` is a space."""
    return element_text(element, SKIP, breaks={"lb"})


def _level(head: Element, depth: int) -> int:
    number = (head.get("n") or "").strip().strip(".")
    if number and all(part.isdigit() for part in number.split(".")):
        return max(depth, number.count(".") + 1)
    return depth


def _heading(head: Element) -> Optional[str]:
    number = (head.get("n") or "").strip()
    text = text_of(head)
    if number and not text.startswith(number):
        text = f"{number} {text}"
    return clean(text) or None


def _walk(paper: Paper, container: Element, depth: int, label: Optional[str] = None,
          default_heading: Optional[str] = None) -> None:
    opened = False
    for child in container:
        if child.tag == "head":
            paper.add_section(_heading(child), _level(child, depth), label)
            opened = True
        elif child.tag == "div":
            kind = child.get("type")
            if kind == "references":
                continue
            _walk(paper, child, depth + 1 if opened else depth,
                  label, BACK_TYPES.get(kind, default_heading))
        elif child.tag in ("p", "item", "list", "quote"):
            if not opened and default_heading:
                paper.add_section(default_heading, depth, label)
                opened = True
            paper.add_paragraph(text_of(child))
        elif child.tag in SKIP:
            continue
        elif len(child):
            _walk(paper, child, depth, label, default_heading)


def read_tei(root: Element, paper: Paper) -> Paper:
    if root.tag.lower() != "tei":
        raise ValueError(f"is not TEI: the root element is <{root.tag}>, not <TEI>")
    header = root.find("teiHeader")
    if header is not None:
        title = header.find("fileDesc/titleStmt/title")
        paper.title = text_of(title) if title is not None else None
        for idno in header.iter("idno"):
            if (idno.get("type") or "").lower() in ("doi", "arxiv", "pmid", "pmcid") and clean(idno.text):
                paper.id = clean(idno.text)
                break
        abstract = header.find("profileDesc/abstract")
        if abstract is not None:
            paper.abstract = [text_of(p) for p in abstract.iter("p")] or [text_of(abstract)]
        paper.categories = [clean(t.text) for t in header.iter("term") if clean(t.text)]
    text = root.find("text")
    if text is None:
        return paper
    body = text.find("body")
    if body is None and text.find("front") is None and text.find("back") is None:
        _walk(paper, text, 1)  # a training file: heads and paragraphs straight in <text>
        return paper
    if body is not None:
        _walk(paper, body, 1)
    back = text.find("back")
    if back is not None:
        _walk(paper, back, 1, label="other")
    return paper
