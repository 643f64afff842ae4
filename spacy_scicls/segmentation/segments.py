"""A section boundary, as the section head sees it."""
import re
from typing import List, NamedTuple, Optional

from spacy.tokens import Doc, Span


class Segment(NamedTuple):
    """A section of a doc, in tokens: ``[start, end)``, its heading ``[start, heading_end)``."""

    start: int
    end: int
    heading_end: int
    heading: Optional[str]


def heading_end_of(span: Span, heading: Optional[str]) -> int:
    """Token index where a section's heading line ends.

    The heading is the section's first line: every section that has a
    heading (``heading`` is not None) starts with it, whether the section
    came from a reader's structure or from the rules.
    """
    if heading is None:
        return span.start
    for token in span:
        if "\n" in token.text or "\n" in token.whitespace_:
            return token.i + (0 if "\n" in token.text else 1)
    return span.end


def segments_from_spans(doc: Doc, spans: List[Span]) -> List[Segment]:
    """Segments of spans already set on the doc (e.g. by a structured reader)."""
    segments = []
    for span in spans:
        if len(span) == 0:
            continue
        heading = span._.heading
        segments.append(Segment(span.start, span.end, heading_end_of(span, heading), heading))
    return segments


_SECTION_NUMBER = re.compile(r"^\s*(?:#{1,6}\s*)?(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+\S")


def heading_level(heading: Optional[str]) -> int:
    """Depth of a section from its heading's numbering: "2 Methods" is 1,
    "2.1 Data" is 2, "2.1.3. Sites" is 3; 1 when the heading has no number."""
    if not heading:
        return 1
    number = _SECTION_NUMBER.match(heading)
    if number:
        return number.group(1).count(".") + 1
    return 1
