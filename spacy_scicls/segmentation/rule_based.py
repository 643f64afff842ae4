"""Section boundaries from headings found by simple line rules in plain text.

A heading is a short line that is set apart like a heading: a Markdown ``#``
line, a numbered line ("1 Introduction", "2.3. Experimental setup",
"IV. RESULTS"), an all-capitals line ("MATERIALS AND METHODS"), or a line
that is exactly one of the usual section names ("Abstract", "Results and
Discussion"). Lines that only look like headings (figure and table captions,
lines ending like a sentence, long lines) are refused.
"""
import re
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry

from .segments import Segment

KNOWN_HEADINGS = {
    "abstract", "summary", "introduction", "background", "related work", "previous work",
    "literature review", "methods", "method", "methodology", "materials and methods",
    "methods and materials", "experimental setup", "experiments", "experimental results",
    "results", "findings", "evaluation", "analysis", "discussion", "results and discussion",
    "conclusion", "conclusions", "concluding remarks", "future work", "limitations",
    "acknowledgements", "acknowledgments", "acknowledgement", "references", "bibliography",
    # The other names a reference list goes by (biology and ecology journals print "Literature cited").
    "literature cited", "references cited", "works cited", "reference list", "references and notes",
    "appendix", "funding", "data availability", "author contributions",
    "competing interests", "conflict of interest", "conflicts of interest", "supplementary material",
    "supporting information", "abbreviations", "declarations",
}
MAX_HEADING_CHARS = 100
MAX_HEADING_WORDS = 12

_MARKDOWN = re.compile(r"^#{1,6}\s+\S")
_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H]\.)\s+[A-Z]")
_CAPTION = re.compile(r"^(?:fig(?:ure)?|table|tab|eq(?:uation)?|algorithm|listing)\.?\s*[\dIVX]", re.I)
_SENTENCE_END = tuple(".,;:!?")
# What a numbered heading starts with, and the two letters in a row that a heading's words have.
_LEADING_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H]\.)\s+")
_TWO_LETTERS = re.compile(r"[A-Za-z]{2}")


def is_heading_line(line: str) -> bool:
    text = line.strip()
    if not text or len(text) > MAX_HEADING_CHARS or len(text.split()) > MAX_HEADING_WORDS:
        return False
    if _CAPTION.match(text):
        return False
    if _MARKDOWN.match(text):
        return True
    bare = _LEADING_NUMBER.sub("", text)
    if bare.lower().rstrip(":") in KNOWN_HEADINGS:
        return True
    if text.endswith(_SENTENCE_END) or not _TWO_LETTERS.search(bare):  # (text is stripped)
        return False
    # Table rows and reference lines carry many digits; headings carry few.
    if sum(map(str.isdigit, bare)) > 3:
        return False
    if _NUMBERED.match(text):
        return True
    # All of its letters capitals, and four of them at least (the first test stops at a small letter).
    return all(map(str.isupper, filter(str.isalpha, bare))) and sum(map(str.isalpha, bare)) >= 4


def find_heading_lines(text: str) -> List[Tuple[int, int]]:
    """Character offsets ``(start, end)`` of the heading lines of ``text``."""
    found = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if is_heading_line(body):
            lead = len(body) - len(body.lstrip())
            found.append((offset + lead, offset + len(body.rstrip())))
        offset += len(line)
    return found


def clean_heading(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"^#{1,6}\s+", "", text.strip()))


class RuleBasedSegmenter:
    """Cut a doc into sections at heading lines; text before the first heading
    (an unheaded abstract of a plain-text paper) is a section without a
    heading, unless it is only the title and authors."""

    def __call__(self, doc: Doc) -> List[Segment]:
        text = doc.text  # built from the tokens on every access: read it once
        return segments_at_headings(doc, text, find_heading_lines(text))


# Front matter: the title, authors and affiliations above the first heading.
# Its lines are short and none ends a sentence; an unheaded abstract or
# introduction has sentences, and stays a section.
FRONT_MATTER_MAX_WORDS_PER_LINE = 25
FRONT_MATTER_MAX_LINES = 6


def is_front_matter(text: str) -> bool:
    """Whether the text above a paper's first heading is only its front matter
    (title, authors, affiliations), which is not a section of the paper."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or len(lines) > FRONT_MATTER_MAX_LINES:
        return False
    return all(
        len(line.split()) <= FRONT_MATTER_MAX_WORDS_PER_LINE and not line.endswith((".", "!", "?"))
        for line in lines
    )


def segments_at_headings(doc: Doc, text: str, headings: List[Tuple[int, int]]) -> List[Segment]:
    """Sections of ``doc`` cut at the heading lines ``headings`` (character
    offsets into ``text``, which is ``doc.text``), in order. The text before
    the first heading is a section without heading, unless it is only the
    paper's front matter (:func:`is_front_matter`): then no section covers it,
    and the category heads read it as the title."""
    bounds: List[Tuple[int, Optional[Tuple[int, int]]]] = []
    if not headings or (text[: headings[0][0]].strip() and not is_front_matter(text[: headings[0][0]])):
        bounds.append((0, None))
    bounds.extend((start, (start, end)) for start, end in headings)
    segments = []
    for i, (start_char, heading_chars) in enumerate(bounds):
        end_char = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        span = doc.char_span(start_char, end_char, alignment_mode="expand")
        if span is None:
            continue
        start, end = _strip_space_tokens(doc, span.start, span.end)
        if end <= start:
            continue
        heading = None
        heading_end = start
        if heading_chars is not None:
            head = doc.char_span(heading_chars[0], heading_chars[1], alignment_mode="expand")
            if head is not None:
                heading = clean_heading(head.text)
                heading_end = min(max(head.end, start), end)
        segments.append(Segment(start, end, heading_end, heading))
    return segments


def _strip_space_tokens(doc: Doc, start: int, end: int) -> Tuple[int, int]:
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    return start, end


@registry.misc("spacy_scicls.rule_based_sections.v1")
def make_rule_based_segmenter_v1() -> Callable[[Doc], List[Segment]]:
    return RuleBasedSegmenter()
