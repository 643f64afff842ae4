"""ClimateIE papers as gold docs: entities, and sections from ``<heading>`` markers.

A ClimateIE file is ``{"text": ..., "entities": {id: {begin, end, label, ...}}, ...}``
where ``text`` marks headings as ``<heading>ABSTRACT</heading>`` on lines of
their own and ``begin``/``end`` are character offsets into that text. The
reader removes the markers (offsets are shifted to the clean text), aligns
the entities by the policy of :mod:`spacy_scicls.corpora.entities`, and sets
``doc.spans["sections"]``: one span per heading, from the heading line to the
next heading, with ``span._.heading``; text before the first heading is a
section without heading.
"""
import json
import re
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span

from ..extensions import install_extensions
from .entities import AlignmentCounts, docs_from_char_entities

install_extensions()

HEADING = re.compile(r"<heading>(.*?)</heading>", re.S)
SECTIONS_KEY = "sections"


def strip_headings(text: str) -> Tuple[str, numpy.ndarray, List[Tuple[int, int, str]]]:
    """The text without heading markers, a map from old to new character
    offsets (``len(text) + 1`` entries), and the headings as ``(begin, end, text)``
    in the clean text."""
    keep = numpy.ones(len(text), dtype=bool)
    for match in re.finditer(r"</?heading>", text):
        keep[match.start() : match.end()] = False
    new_offset = numpy.concatenate([[0], numpy.cumsum(keep)])
    clean = "".join(numpy.asarray(list(text), dtype=object)[keep]) if len(text) else ""
    headings = []
    for match in HEADING.finditer(text):
        begin, end = int(new_offset[match.start(1)]), int(new_offset[match.end(1)])
        headings.append((begin, end, clean[begin:end].strip()))
    return clean, new_offset, headings


def climateie_doc(nlp: Language, record: dict, counts: Optional[AlignmentCounts] = None) -> Doc:
    """One gold doc from a ClimateIE record (see module doc)."""
    counts = AlignmentCounts() if counts is None else counts
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError("a ClimateIE record is a dict with a 'text' string")
    text, new_offset, headings = strip_headings(record["text"])
    entities = []
    raw = record.get("entities") or {}
    for value in raw.values() if isinstance(raw, dict) else raw:
        try:
            begin, end, label = int(value["begin"]), int(value["end"]), value["label"]
        except (KeyError, TypeError, ValueError):
            counts["malformed"] += 1
            continue
        if not 0 <= begin <= end <= len(record["text"]):
            counts["out_of_range"] += 1
            continue
        entities.append((int(new_offset[begin]), int(new_offset[end]), label))
    boundaries = [b for b, _, _ in headings] + [e for _, e, _ in headings]
    doc = docs_from_char_entities(nlp, text, entities, counts, extra_boundaries=boundaries)
    doc.spans[SECTIONS_KEY] = _sections(doc, headings)
    return doc


def _sections(doc: Doc, headings: List[Tuple[int, int, str]]) -> List[Span]:
    starts = []
    for begin, _, heading in headings:
        token = _token_at(doc, begin)
        if token is not None and (not starts or token > starts[-1][0]):
            starts.append((token, heading))
    sections = []
    if len(doc) and (not starts or starts[0][0] > 0):
        first_end = starts[0][0] if starts else len(doc)
        span = Span(doc, 0, first_end)
        if span.text.strip():
            sections.append(span)
    for i, (start, heading) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(doc)
        span = Span(doc, start, end)
        span._.heading = heading
        sections.append(span)
    return sections


def _token_at(doc: Doc, char: int) -> Optional[int]:
    for token in doc[max(0, _bisect(doc, char) - 1) :]:
        if token.idx >= char and not token.is_space:
            return token.i
    return None


def _bisect(doc: Doc, char: int) -> int:
    lo, hi = 0, len(doc)
    while lo < hi:
        mid = (lo + hi) // 2
        if doc[mid].idx < char:
            lo = mid + 1
        else:
            hi = mid
    return lo


def read_climateie(
    path: Union[str, Path], nlp: Language, counts: Optional[AlignmentCounts] = None
) -> List[Doc]:
    """Gold docs from one ClimateIE JSON file or a folder of them (sorted by name);
    ``doc.user_data["paper_id"]`` holds the file name's stem."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"no ClimateIE JSON files at {path}: it does not exist")
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"no ClimateIE JSON files at {path}")
    docs = []
    for file in files:
        with file.open(encoding="utf8") as handle:
            try:
                record = json.load(handle)
            except json.JSONDecodeError as err:
                raise ValueError(f"{file}: not JSON ({err})") from err
        doc = climateie_doc(nlp, record, counts)
        doc.user_data["paper_id"] = file.stem
        docs.append(doc)
    return docs
