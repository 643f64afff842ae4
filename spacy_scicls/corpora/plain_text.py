"""Plain text as a PDF extractor gives it, from GROBID training TEI, with the gold heading lines.

GROBID's full-text training files hold the text of a PDF as GROBID's PDF
parser saw it, with ``<lb/>`` at each line break of the PDF, and mark the
headings (``<head>``), paragraphs, figures, tables and formulas. Laid out
line by line, with every element on its own lines, this is what a
PDF-to-text tool gives for the body of the paper; the lines of each
``<head>`` are the gold heading lines of the heading-detection benchmark.
"""
import re
from pathlib import Path
from typing import List, Set, Tuple, Union
from xml.etree.ElementTree import Element

from ..readers._safe_xml import parse_xml
from .printed import PrintedBlock, flatten

_SPACE = re.compile(r"[ \t\u00a0]+")


def normalise_line(line: str) -> str:
    """A line with its white space collapsed, for matching headings."""
    return _SPACE.sub(" ", line).strip()


def _lines(element: Element) -> List[str]:
    out: List[str] = []
    current: List[str] = []

    def walk(node: Element) -> None:
        if node.tag == "lb":
            out.append("".join(current))
            current.clear()
        if node.text:
            current.append(node.text.replace("\n", " "))
        for child in node:
            walk(child)
            if child.tail:
                current.append(child.tail.replace("\n", " "))

    walk(element)
    out.append("".join(current))
    return [normalise_line(line) for line in out if normalise_line(line)]


_TEI_KINDS = {"head": "heading", "p": "paragraph", "item": "paragraph", "formula": "other", "note": "other"}


def tei_blocks(source: Union[str, Path, bytes]) -> List[PrintedBlock]:
    """The body of a GROBID training TEI file as printed blocks: each
    ``<head>``, ``<p>``, ``<figure>`` (``table`` for ``type="table"``, else
    ``other``: a figure's text holds its caption and the words inside it),
    ``<formula>`` and list item with its PDF lines, in reading order."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    root = parse_xml(data)
    text_el = root.find("text")
    if text_el is None:
        raise ValueError("has no <text> element")
    body = text_el.find("body")
    container = body if body is not None else text_el
    blocks: List[PrintedBlock] = []

    def visit(node: Element) -> None:
        for child in node:
            if child.tag in ("div", "list") and len(child):
                visit(child)
                continue
            lines = _lines(child)
            if not lines:
                continue
            if child.tag == "figure":
                kind = "table" if child.get("type") == "table" else "other"
            else:
                kind = _TEI_KINDS.get(child.tag, "other")
            blocks.append(PrintedBlock(kind, tuple(lines)))

    visit(container)
    return blocks


def tei_plain_text(source: Union[str, Path, bytes]) -> Tuple[str, Set[int]]:
    """``(text, gold)``: the body text of a GROBID training TEI file, one PDF
    line per line, and the indices of its lines that belong to a ``<head>``."""
    lines, gold = flatten(tei_blocks(source))
    return "\n".join(lines) + ("\n" if lines else ""), gold


def split_of(name: str) -> str:
    """``"train"`` or ``"test"``: a fixed split of papers by a checksum of their file name
    (CRC-32, even: train, odd: test), the same on every machine and run."""
    import zlib

    return "test" if zlib.crc32(Path(name).name.encode("utf-8")) % 2 else "train"


def reader_text_and_gold(doc) -> Tuple[str, set]:
    """A reader doc's text, and the indices of its heading lines."""
    text = doc.text
    line_of = {}
    offset = 0
    for i, line in enumerate(text.splitlines(keepends=True)):
        line_of[offset] = i
        offset += len(line)
    gold = set()
    for span in doc.spans["sections"]:
        if span._.heading and span.start_char in line_of:
            gold.add(line_of[span.start_char])
    return text, gold
