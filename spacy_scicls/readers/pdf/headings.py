"""Which blocks of a PDF are section headings: the layout's evidence and the text's, together.

A heading is a short block (at most three lines, ``MAX_WORDS`` words),
alone on its baseline (not a table's cell) and not indented (not a list
item) unless centred, that is set apart from the body text by its type: larger (``size_ratio`` at
least ``MIN_SIZE_RATIO``), bold while the body is not, in small capitals,
or in capitals and numbered. Such a block is a heading when the plain-text
heading-line model (the same one that finds headings in text files, see
:mod:`spacy_scicls.segmentation.lines`) gives it at least
``MIN_TEXT_PROBABILITY``, or when the layout alone is strong (numbered, or
clearly larger type). A block in body type is a heading only when the text
model is sure (``TEXT_ONLY_PROBABILITY``) and it is numbered or in capitals:
so a PDF whose headings are not set apart by type still gets them. An
italic block is a heading after a heading set apart otherwise, when the
text reads as one (``ITALIC_TEXT_PROBABILITY``). A paragraph that starts
with a run-in heading (a bold or italic lead-in ending in a full stop:
"Participants. We recruited ...") is split into that heading and its
paragraph (:func:`run_in_split`).

The constants were set on the tuning half of the JOSE papers (see
docs/pdf.md and ``scripts/evaluate_pdf_sections.py --split tune``); those of
italic and run-in headings on PLOS train papers typeset in many house styles
(``--typeset train``).
"""
import re
from dataclasses import replace
from functools import lru_cache
from typing import List, Sequence

import numpy

from .layout import RUN_IN_END, Block, join_lines

MAX_WORDS = 16
MAX_CHARS = 160
MAX_INDENT = 1.0  # in ems of the body's type, from the column's left edge
MIN_SIZE_RATIO = 1.1
STRONG_SIZE_RATIO = 1.25
MIN_TEXT_PROBABILITY = 0.05
TEXT_ONLY_PROBABILITY = 0.8
ITALIC_TEXT_PROBABILITY = 0.3
RUN_IN_TEXT_PROBABILITY = 0.3
MAX_RUN_IN_WORDS = MAX_WORDS
MAX_RUN_IN_INDENT = 4.0

NUMBERED = re.compile(r"^(?:(\d{1,2}(?:\.\d{1,2}){0,3})\.?|([IVX]{1,5})\.|([A-H])\.)\s+\S")
_LETTERS = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _line_model():
    from ...segmentation.lines import HeadingLineModel

    return HeadingLineModel.from_disk()


def text_heading_probabilities(lines: Sequence[str]) -> numpy.ndarray:
    """P(heading) of each line from the plain-text heading-line model (the one call to its API)."""
    return numpy.asarray(_line_model().probabilities(list(lines)), dtype="float64")


def numbering_depth(text: str) -> int:
    """1 for "2 Methods", "II. Methods", "B. Data"; 2 for "2.1 Data"; 0 when not numbered."""
    match = NUMBERED.match(text.strip())
    if not match:
        return 0
    if match.group(1):
        return match.group(1).count(".") + 1
    return 1 if match.group(2) else 2


# An author line of a paper's first page: one or more names with an initial ("Sambit K. Giri", "A. B. Smith"),
# each followed by the numbers of its affiliations ("1", "1, 2", "2*"). Styled like a heading and ending in a
# number, it reads as one to the cues; no section heading looks like it. Read token by token, in one pass
# (a regular expression of nested name patterns takes exponential time on hostile text).
_AUTHOR_TOKEN = re.compile(r"[^\W\d_][\w'\-]*\.?|\d+|[,*\u2020\u2021&]")
_NAME = re.compile(r"[A-Z][a-z'\-]+$")
_INITIAL = re.compile(r"[A-Z]\.$")


def _author_line(block: Block) -> bool:
    if block.page != 0:
        return False
    text = block.text.strip()
    tokens = _AUTHOR_TOKEN.findall(text)
    if not tokens or sum(len(t) for t in tokens) < len(text.replace(" ", "")):
        return False  # something else than names, numbers and separators
    authors, name, in_affiliations = 0, [], False
    for token in tokens:
        if token.isdigit() or token in ",*\u2020\u2021&" or token == "and":
            if token.isdigit() and name:
                if len(name) < 2 or not any(_INITIAL.match(w) for w in name) or not _NAME.match(name[-1]):
                    return False
                authors, name, in_affiliations = authors + 1, [], True
            elif name:
                return False  # a separator inside a name
            continue
        if not (_NAME.match(token) or _INITIAL.match(token)):
            return False
        name.append(token)
        in_affiliations = False
    return authors > 0 and not name and in_affiliations


def _caps(text: str) -> bool:
    letters = _LETTERS.findall(text)
    return len(letters) >= 3 and sum(1 for ch in letters if ch.isupper()) >= 0.8 * len(letters)


def decide_headings(blocks: List[Block], body_size: float, body_bold: bool, body_italic: bool = False) -> None:
    """Set ``block.role = "heading"`` (and ``block.tags["level"]``) on the blocks that are headings; a
    paragraph that starts with a run-in heading is split in two, the heading and the paragraph."""
    body = [b for b in blocks if b.role == "body"]
    if not body:
        return
    run_ins = {}
    for block in body:
        pair = run_in_split(block, body_bold, body_italic)
        if pair:
            run_ins[id(block)] = pair
    # the text model reads each line with its neighbours: a run-in heading is read as the line before
    # its paragraph (and the paragraph it starts, as that paragraph without it)
    sequence: List[Block] = []
    for block in body:
        sequence.extend(run_ins.get(id(block), (block,)))
    probabilities = text_heading_probabilities([b.text for b in sequence])
    p_text = {id(b): float(p) for b, p in zip(sequence, probabilities)}
    for block in body:
        if id(block) in run_ins:
            p_text[id(block)] = p_text[id(run_ins[id(block)][1])]
    face = (body_size, body_bold, body_italic)
    seen_heading = False
    out: List[Block] = []
    for block in blocks:
        # a run-in heading first: a block that starts with one is, as a whole, in two faces
        if id(block) in run_ins and _is_heading(run_ins[id(block)][0], p_text[id(run_ins[id(block)][0])],
                                                face, seen_heading, run_in=True):
            seen_heading = True
            out.extend(run_ins[id(block)])
            continue
        if block.role == "body" and _is_heading(block, p_text[id(block)], face, seen_heading):
            seen_heading = True
        out.append(block)
    blocks[:] = out
    _levels([b for b in blocks if b.role == "heading"])


def _is_heading(block: Block, p_text: float, face, seen_heading: bool, run_in: bool = False) -> bool:
    """Whether ``block`` is a heading (and if so, mark it one)."""
    body_size, body_bold, body_italic = face
    text = block.text
    words = len(text.split())
    if len(block.lines) > 3 or words > MAX_WORDS or len(text) > MAX_CHARS or not _LETTERS.search(text):
        return False
    if block.tags.get("shared_baseline"):
        return False  # a table's cell: another cell sits on its baseline
    if _author_line(block):
        return False
    # an indented list item or quotation; a run-in heading may start an indented paragraph
    if block.tags.get("indent", 0) > (MAX_RUN_IN_INDENT if run_in else MAX_INDENT) and not block.tags.get("centred"):
        return False
    ratio = block.size / body_size
    bold = block.bold >= 0.75 and not body_bold
    small_caps = all(line.small_caps for line in block.lines)
    italic = block.italic >= 0.75 and not body_italic
    numbered = numbering_depth(text) > 0
    caps = _caps(text)
    ends_sentence = text.rstrip().endswith((".", ",", ";")) and not re.search(r"\b[A-Z]\.$|\d\.$", text)
    styled = ratio >= MIN_SIZE_RATIO or bold or small_caps or (caps and numbered)
    if ratio < 0.8:  # a footnote or a figure's label, whatever its face
        return False
    if run_in:
        # a bold or italic start of a paragraph is a heading only when it reads as one
        heading = (bold or italic) and (p_text >= RUN_IN_TEXT_PROBABILITY or numbered) and (bold or seen_heading)
    elif styled and not ends_sentence:
        heading = p_text >= MIN_TEXT_PROBABILITY or numbered or ratio >= STRONG_SIZE_RATIO
    elif italic and not ends_sentence:
        # italic alone sets apart a sub-heading, but also a quotation's line or an affiliation:
        # the text must read as a heading too, and come after a heading set apart otherwise
        heading = seen_heading and (p_text >= ITALIC_TEXT_PROBABILITY or numbered)
    else:
        heading = p_text >= TEXT_ONLY_PROBABILITY and (numbered or caps) and not ends_sentence
    if heading:
        block.role = "heading"
        block.tags.update(p_text=p_text, size_ratio=ratio, bold=bold, numbered=numbered, run_in=run_in)
    return heading


def run_in_split(block: Block, body_bold: bool, body_italic: bool):
    """(heading, paragraph) for a paragraph whose first line starts with a run-in heading: a lead-in
    in bold (or italic) type of at most ``MAX_RUN_IN_WORDS`` words ending in a full stop or a dash,
    followed on the same line by text in the body's face ("Participants. We recruited ...");
    else None."""
    if block.role != "body" or not block.tags.get("opens", True):
        return None  # not a paragraph's start: a phrase in bold or italic inside a sentence
    line, before = block.lines[0], ""
    if line.lead == line.text and len(block.lines) > 1:
        if block.lines[1].lead_face == line.lead_face:
            # a run-in heading over two lines: all of the first, the start of the second
            before, line = line.text, block.lines[1]
        elif not block.lines[1].lead:
            # a run-in heading that fills its line: the paragraph starts on the next
            before, line = line.text, replace(block.lines[1], lead="", lead_face=line.lead_face)
    lead = line.lead
    face = line.lead_face
    if not (lead or before) or (face == "bold" and body_bold) or (face == "italic" and body_italic):
        return None
    rest = line.text[len(lead):].strip()
    heading = join_lines([before, lead]).rstrip(".\u2014\u2013 ").strip()
    if not RUN_IN_END.search(lead or before) or not rest or rest[0].islower() or not heading:
        return None
    if len(heading.split()) > MAX_RUN_IN_WORDS or not _LETTERS.search(heading):
        return None
    bold, italic = (1.0, 0.0) if face == "bold" else (0.0, 1.0)
    head_line = replace(block.lines[0], text=heading, lead="", lead_face="", bold=bold, italic=italic)
    rest_line = replace(line, text=rest, lead="", lead_face="")
    head = Block([head_line], tags=dict(block.tags))
    following = block.lines[2:] if before else block.lines[1:]
    paragraph = Block([rest_line] + following, tags=dict(block.tags, indent=0.0))
    return head, paragraph


def _levels(headings: List[Block]) -> None:
    """Numbered headings take their depth; the others rank by their type (larger, then bold, then capitals)."""
    styles = sorted({_style(b) for b in headings}, reverse=True)
    for block in headings:
        depth = numbering_depth(block.text)
        block.tags["level"] = depth if depth else min(styles.index(_style(block)) + 1, 4)


def _style(block: Block):
    return (round(block.size * 2) / 2, block.bold >= 0.75, _caps(block.text))
