"""JATS / NLM XML (PLOS, PubMed Central) into a :class:`Paper`.

Title, abstract (the main one: not the author summary or the editor's
summary), DOI or other article id, subject categories; body ``<sec>``
elements nested at any depth (``<label>`` + ``<title>`` make the heading),
then ``<ack>`` and the ``<sec>``/``<app>`` sections of ``<back>``. Figures,
tables, formulas and the reference list are left out of the text. A
top-level ``sec-type`` that names an IMRaD role gives the section its label.
"""
from typing import Iterable, Optional
from xml.etree.ElementTree import Element

from ._build import Paper, clean, element_text

# JATS sec-type values (PLOS, PMC) -> IMRaD label. A combined type takes its
# first role: "results|discussion" is results.
SEC_TYPES = {
    "intro": "introduction",
    "introduction": "introduction",
    "background": "introduction",
    "materials": "methods",
    "methods": "methods",
    "materials|methods": "methods",
    "materials and methods": "methods",
    "subjects": "methods",
    "cases": "methods",
    "results": "results",
    "results|discussion": "results",
    "discussion": "discussion",
    "conclusions": "conclusion",
    "conclusion": "conclusion",
    "supplementary-material": "other",
    "acknowledgments": "other",
    "acknowledgements": "other",
    "funding": "other",
    "data-availability": "other",
}

# Elements whose text is not the paper's running text.
SKIP = {"fig", "table-wrap", "disp-formula", "ref-list", "fn-group", "table", "graphic", "media",
        "supplementary-material", "object-id", "alternatives", "inline-graphic", "tex-math", "math"}
BLOCKS = {"p", "list-item", "def", "statement", "disp-quote", "boxed-text"}


def sec_type_label(sec_type: Optional[str]) -> Optional[str]:
    if not sec_type:
        return None
    key = sec_type.strip().lower()
    if key in SEC_TYPES:
        return SEC_TYPES[key]
    first = key.split("|")[0]
    return SEC_TYPES.get(first)


def text_of(element: Element) -> str:
    """The running text of ``element``, without figures, tables and formulas."""
    return element_text(element, SKIP)


def _child(element: Optional[Element], tag: str) -> Optional[Element]:
    return None if element is None else element.find(tag)


def _heading(sec: Element) -> Optional[str]:
    label = _child(sec, "label")
    title = _child(sec, "title")
    parts = [text_of(x) for x in (label, title) if x is not None]
    return clean(" ".join(p for p in parts if p)) or None


def _paragraphs(container: Element) -> Iterable[str]:
    """Paragraph-like blocks directly in ``container`` (not in its sub-sections)."""
    for child in container:
        if child.tag in ("sec", "title", "label") or child.tag in SKIP:
            continue
        if child.tag in BLOCKS:
            # A paragraph may hold a list or a figure: its own text first.
            yield text_of(child)
        elif child.tag in ("list",):
            for item in child.iter("list-item"):
                yield text_of(item)
        else:
            yield from _paragraphs(child)


def _add_sec(paper: Paper, sec: Element, level: int, label: Optional[str] = None) -> None:
    paper.add_section(_heading(sec), level, label)
    for paragraph in _paragraphs(sec):
        paper.add_paragraph(paragraph)
    for sub in sec.findall("sec"):
        _add_sec(paper, sub, level + 1)


def read_jats(root: Element, paper: Paper) -> Paper:
    if root.tag != "article":
        article = root.find(".//article")
        if article is None:
            raise ValueError(f"is not JATS: the root element is <{root.tag}>, not <article>")
        root = article
    meta = root.find("front/article-meta")
    if meta is not None:
        title = meta.find("title-group/article-title")
        paper.title = text_of(title) if title is not None else None
        ids = {el.get("pub-id-type"): clean(el.text) for el in meta.findall("article-id")}
        paper.id = ids.get("doi") or ids.get("pmid") or ids.get("pmc") or next(iter(ids.values()), None)
        for abstract in meta.findall("abstract"):
            if abstract.get("abstract-type") in (None, "", "abstract"):
                paper.abstract = [text_of(p) for p in abstract.iter("p")] or [text_of(abstract)]
                break
        paper.categories = [
            clean(s.text) for group in meta.iter("subj-group") for s in group.findall("subject") if clean(s.text)
        ]
    body = root.find("body")
    if body is not None:
        for child in body:
            if child.tag == "sec":
                _add_sec(paper, child, 1, sec_type_label(child.get("sec-type")))
            elif child.tag in BLOCKS or child.tag == "list":
                if not paper.sections or paper.sections[-1].heading is not None:
                    paper.add_section(None)
                for paragraph in ([text_of(child)] if child.tag in BLOCKS else _paragraphs(child)):
                    paper.add_paragraph(paragraph)
    back = root.find("back")
    if back is not None:
        for child in back:
            if child.tag == "ack":
                paper.add_section(_heading(child) or "Acknowledgments", 1, "other")
                for paragraph in _paragraphs(child):
                    paper.add_paragraph(paragraph)
            elif child.tag in ("sec", "app"):
                _add_sec(paper, child, 1, sec_type_label(child.get("sec-type")) or "other")
            elif child.tag == "app-group":
                for app in child.findall("app"):
                    _add_sec(paper, app, 1, "other")
    return paper
