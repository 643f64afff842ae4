"""A paper's reference list as a PDF prints it, for the heading-line scorer to learn what is no heading.

The readers leave the reference list out of a paper's text (JATS keeps it in
``<ref-list>``, S2ORC and unArXive in ``bib_entries``), and GROBID's training
TEI has none, yet nearly every PDF a user holds ends in one. Its lines are the
hardest lines a heading finder meets outside the body: short, capitalised,
numbered one after the other ("12. Kim S, Lee J"), without a verb, the last
line of an entry a few words that end in a full stop. This module reads the
references of a source file (:func:`jats_references`,
:func:`s2orc_references`, :func:`unarxive_references`) and prints them
(:func:`reference_blocks`): the list's heading ("References", "REFERENCES",
"Bibliography", ...; a gold heading) and one ``reference`` block per entry,
numbered ("[3]", "3.", "3") or not, in a citation style drawn per paper, each
wrapped at the paper's column width.

Nothing is invented but the punctuation: the words are the source's (a
publisher's formatted ``<mixed-citation>`` and unArXive's raw entries are
kept as they are; structured entries are written in a drawn style).
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy

from ..readers._build import clean
from ..readers._safe_xml import parse_xml
from .pdf_layout import wrap
from .printed import PrintedBlock

#: The headings a reference list is printed under, the first the most common.
LIST_HEADINGS = ("References", "References", "References", "REFERENCES", "Bibliography", "Literature Cited",
                 "References and Notes", "REFERENCES CITED")
#: How an entry is numbered: not at all (an author-year list), "[3]", "3." or "3".
NUMBERINGS = ("none", "brackets", "dot", "bare")
#: How a structured entry is written: Vancouver (medicine), author-year (APA-like), IEEE-like.
STYLES = ("vancouver", "author_year", "ieee")
#: At most this many entries of a paper are printed: a long list adds lines, not new kinds of line.
MAX_ENTRIES = 60


@dataclass(frozen=True)
class Reference:
    """One entry: either ``raw``, its text as the source formats it, or its parts."""

    raw: str = ""
    authors: Tuple[Tuple[str, str], ...] = ()  # (surname, given names or initials)
    year: str = ""
    title: str = ""
    source: str = ""  # the journal, the book, the proceedings
    volume: str = ""
    pages: str = ""
    doi: str = ""


def _initials(given: str) -> str:
    parts = [p for p in given.replace(".", " ").replace("-", " ").split() if p]
    return "".join(p[0].upper() for p in parts) if any(len(p) > 1 for p in parts) else "".join(parts)


def format_reference(ref: Reference, style: str) -> str:
    """``ref`` as one line of text in ``style`` (:data:`STYLES`); a raw entry as it is."""
    if ref.raw:
        return clean(ref.raw)
    if style not in STYLES:
        raise ValueError(f"unknown reference style {style!r}; styles are {', '.join(STYLES)}")
    authors = list(ref.authors)
    etal = len(authors) > 6
    authors = authors[:6] if etal else authors
    if style == "vancouver":
        names = ", ".join(f"{s} {_initials(g)}".strip() for s, g in authors) + (", et al" if etal else "")
        tail = f"{ref.year}" + (f";{ref.volume}" if ref.volume else "") + (f":{ref.pages}" if ref.pages else "")
        parts = [names, ref.title, ref.source, tail]
    elif style == "author_year":
        written = [f"{s}, {'. '.join(_initials(g))}." if g else s for s, g in authors]
        names = (", ".join(written[:-1]) + ", & " + written[-1]) if len(written) > 1 else "".join(written)
        source = ref.source + (f", {ref.volume}" if ref.volume else "") + (f", {ref.pages}" if ref.pages else "")
        parts = [f"{names} ({ref.year})" if ref.year else names, ref.title, source,
                 f"https://doi.org/{ref.doi}" if ref.doi else ""]
    else:  # IEEE: the parts joined by commas, the title in quotes
        written = [f"{'. '.join(_initials(g))}. {s}" if g else s for s, g in authors]
        names = ", ".join(written) + (" et al." if etal else "")
        title = f"\u201c{clean(ref.title).rstrip('.')},\u201d" if ref.title else ""
        details = ", ".join(x for x in (clean(ref.source), f"vol. {ref.volume}" if ref.volume else "",
                                        f"pp. {ref.pages}" if ref.pages else "", ref.year) if x)
        text = " ".join(x for x in (f"{names}," if names else "", title, details) if x).rstrip(",")
        return text + "." if text else ""
    text = ". ".join(clean(p).rstrip(".") for p in parts if clean(p))
    ends_in_link = text.rsplit(" ", 1)[-1].startswith("https://")
    return text + ("." if text and not ends_in_link else "")


def _xml_text(element) -> str:
    return clean("".join(element.itertext())) if element is not None else ""


def jats_references(source: Union[str, Path, bytes]) -> List[Reference]:
    """The entries of a JATS file's ``<ref-list>`` s: a ``<mixed-citation>`` (the
    publisher's own formatting) as raw text, an ``<element-citation>``,
    ``<citation>`` or ``<nlm-citation>`` by its parts."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    root = parse_xml(data)
    out: List[Reference] = []
    for ref in root.iter("ref"):
        mixed = ref.find(".//mixed-citation")
        if mixed is not None:
            text = _xml_text(mixed)
            if text:
                out.append(Reference(raw=text))
            continue
        cited = next((c for c in (ref.find(f".//{tag}") for tag in ("element-citation", "citation", "nlm-citation"))
                      if c is not None), None)
        if cited is None:
            continue
        authors = tuple((_xml_text(name.find("surname")), _xml_text(name.find("given-names")))
                        for name in cited.iter("name") if name.find("surname") is not None)
        title = _xml_text(cited.find("article-title")) or _xml_text(cited.find("chapter-title"))
        source_text = _xml_text(cited.find("source"))
        if not title and not source_text:
            continue
        first, last = _xml_text(cited.find("fpage")), _xml_text(cited.find("lpage"))
        doi = next((_xml_text(p) for p in cited.iter("pub-id") if p.get("pub-id-type") == "doi"), "")
        out.append(Reference(authors=authors, year=_xml_text(cited.find("year")), title=title,
                             source=source_text, volume=_xml_text(cited.find("volume")),
                             pages=f"{first}\u2013{last}" if first and last else first, doi=doi))
    return out


def _bib_reference(entry: Dict) -> Optional[Reference]:
    if not isinstance(entry, dict):
        return None
    raw = str(entry.get("bib_entry_raw") or "")
    if raw:
        return Reference(raw=raw)
    title, venue = str(entry.get("title") or ""), str(entry.get("venue") or "")
    if not title and not venue:
        return None
    authors = []
    for author in entry.get("authors") or []:
        if isinstance(author, dict) and author.get("last"):
            given = " ".join([str(author.get("first") or "")] + [str(m) for m in author.get("middle") or []])
            authors.append((str(author["last"]), given.strip()))
    year = entry.get("year")
    return Reference(authors=tuple(authors), year=str(year) if year else "", title=title, source=venue,
                     volume=str(entry.get("volume") or ""), pages=str(entry.get("pages") or "").replace("--", "\u2013"))


def s2orc_references(source: Union[str, Path]) -> List[Reference]:
    """The ``bib_entries`` of an S2ORC / doc2json JSON file (at its top level or in its
    ``pdf_parse``, ``grobid_parse`` or ``latex_parse``)."""
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    entries = data.get("bib_entries")
    for key in ("pdf_parse", "grobid_parse", "latex_parse"):
        if not entries and isinstance(data.get(key), dict):
            entries = data[key].get("bib_entries")
    return unarxive_references({"bib_entries": entries or {}})


def unarxive_references(record: Dict) -> List[Reference]:
    """The ``bib_entries`` of an unArXive record (raw entries) or of any S2ORC-like record."""
    entries = record.get("bib_entries") or {}
    values = entries.values() if isinstance(entries, dict) else entries
    return [ref for ref in (_bib_reference(e) for e in values) if ref is not None]


def reference_blocks(refs: Sequence[Reference], seed: int, width: int) -> List[PrintedBlock]:
    """The reference list as printed: its heading and one ``reference`` block per
    entry (at most :data:`MAX_ENTRIES`, the first ones), numbered and written in a
    style drawn from ``seed``, wrapped at ``width`` characters; none without entries."""
    if not refs:
        return []
    rng = numpy.random.default_rng(seed)
    heading = str(rng.choice(LIST_HEADINGS))
    numbering = str(rng.choice(NUMBERINGS))
    style = str(rng.choice(STYLES))
    blocks = [PrintedBlock("heading", (heading,))]
    for k, ref in enumerate(refs[:MAX_ENTRIES], start=1):
        text = format_reference(ref, style)
        if not text:
            continue
        prefix = {"none": "", "brackets": f"[{k}] ", "dot": f"{k}. ", "bare": f"{k} "}[numbering]
        lines = wrap(prefix + text, width)[0]
        if lines:
            blocks.append(PrintedBlock("reference", tuple(lines)))
    return blocks if len(blocks) > 1 else []
