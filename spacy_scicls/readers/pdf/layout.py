"""From a PDF's printed lines to blocks of running text in reading order.

What a page prints besides its running text is set aside here, each line
getting a ``role``: ``running`` (headers and footers that repeat across
pages, page numbers), ``margin`` (text outside the body's frame: side bars,
line numbers), ``noise`` (lone accents, digits of a figure's axes, table
cells that are only numbers). Two-column pages are read column by column:
a vertical gutter crossed by (almost) no line splits the page, lines that
cross it (a title, a wide figure's caption) cut the page into bands, and
each band is read left column first. Lines are then gathered into
:class:`Block` s (a heading, a paragraph, a caption) at a gap wider than
the body's line pitch, at a change of type size, weight, slant or small
capitals, after a centred heading, at an indented first line, and before a
heading with little space above it or stacked right under another; a
run-in heading that runs over its first line stays with its paragraph.
"""
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from .extract import Line

_DIGITS = re.compile(r"\d+")
_NUMBER_ONLY = re.compile(r"^[\divxlcIVXLC\s.,:()\-–—/]{1,12}$")
_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.?|[A-H]\.)$")
_NUMBERED_START = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H]\.)\s+[A-Z]")
# how a run-in heading ends: a full stop after a word ("Participants.", "Experiment 2.", "(SNPs).") or a
# dash; a bold lead-in ending in a colon is a label ("Keywords:", "Question:") far more often than a heading
RUN_IN_END = re.compile(r"[^\W_]\.$|\)\.$|\s?[\u2014\u2013]$")
MAX_STACKED = 2  # headings stacked under a heading; more in a row are a table of contents or a list
_PAGE_WORD = re.compile(r"^(?:page|p\.)\s*\d+(?:\s*(?:of|/)\s*\d+)?$", re.I)
_ALNUM = re.compile(r"[^\W_]")
_CAPTION = re.compile(
    r"^(?:figure|fig\.|table|tab\.|scheme|algorithm|listing|box|chart|plate|supplementary (?:figure|table))"
    r"\s*[A-Z]?\d+[a-z]?(?:\.\d+)?\s*(?:[.:|\u2014\u2013-]|\s[A-Z(]|$)",
    re.I,
)


@dataclass
class Block:
    lines: List[Line]
    role: str = "body"
    tags: Dict = field(default_factory=dict)

    @property
    def page(self) -> int:
        return self.lines[0].page

    @property
    def size(self) -> float:
        weights = Counter()
        for line in self.lines:
            weights[line.size] += len(line.text)
        return weights.most_common(1)[0][0]

    @property
    def bold(self) -> float:
        total = sum(len(line.text) for line in self.lines)
        return sum(line.bold * len(line.text) for line in self.lines) / max(total, 1)

    @property
    def italic(self) -> float:
        total = sum(len(line.text) for line in self.lines)
        return sum(line.italic * len(line.text) for line in self.lines) / max(total, 1)

    @property
    def text(self) -> str:
        return join_lines([line.text for line in self.lines])


def join_lines(texts: Sequence[str], vocabulary: Counter = None) -> str:
    """Lines of one paragraph as one string: a word broken by a line-end hyphen is joined again.

    A hyphen that PDFium marks as a line-end break (a soft hyphen here) is
    always removed; a printed hyphen is removed when the next line starts in
    lower case, unless the paper spells the word with a hyphen elsewhere
    (``vocabulary``: the paper's words with their hyphens) or never spells
    it without one while it does spell it with one ("state-of-the-art").
    """
    out = ""
    for text in texts:
        text = text.strip()
        if not text:
            continue
        if not out:
            out = text
            continue
        if out.endswith("\u00ad"):
            out = out[:-1] + text
        elif out.endswith(("-", "\u2010")) and text[:1].islower() and len(out) > 1 and out[-2].isalpha():
            head = re.split(r"[\s/(\[]", out)[-1][:-1]
            tail = re.split(r"[\s,.;:)\]]", text, 1)[0]
            keep = vocabulary is not None and vocabulary.get(f"{head}-{tail}".lower(), 0) > \
                vocabulary.get(f"{head}{tail}".lower(), 0)
            out = out + text if keep else out[:-1] + text
        else:
            out = out + " " + text
    return out.replace("\u00ad", "")


def merge_fragments(lines: List[Line]) -> List[Line]:
    """Parts of one printed line that came out apart (a formula, a subscript) made one line again."""
    out: List[Line] = []
    for line in lines:
        if not _ALNUM.search(line.text) and line.width < line.size and out:
            continue  # a lone accent or dot set apart from its letter
        if out:
            prev = out[-1]
            overlap = min(prev.bottom, line.bottom) - max(prev.top, line.top)
            gap = line.x0 - prev.x1
            # a heading's number may stand up to 4 em before its text
            reach = 4.0 if _SECTION_NUMBER.match(prev.text) else 1.5
            ref = max(prev.size, line.size)
            line_number = prev.text.isdigit() and abs(prev.size - line.size) > 0.1 * ref and gap > 0.2 * ref
            if not line_number and (prev.page == line.page and overlap > 0.5 * min(prev.height, line.height)
                    and -0.5 * prev.size < gap < reach * max(prev.size, line.size)):
                keep_size = prev if len(prev.text) >= len(line.text) else line
                prev.text = prev.text + ("" if gap < 0.1 * prev.size else " ") + line.text
                prev.x1 = max(prev.x1, line.x1)
                prev.top, prev.bottom = min(prev.top, line.top), max(prev.bottom, line.bottom)
                prev.size, prev.font = keep_size.size, keep_size.font
                prev.bold = min(prev.bold, line.bold) if _ALNUM.search(line.text) else prev.bold
                continue
        out.append(line)
    return out


def body_size(lines: Sequence[Line]) -> float:
    """The type size of most of the paper's characters."""
    weights = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def mark_running(pages: List[List[Line]]) -> None:
    """Headers, footers and page numbers: lines in the top or bottom tenth of a page that are only a
    number, or whose text (digits aside) recurs at the same height on at least two pages and a
    quarter of them."""
    seen = Counter()
    keys = []
    for lines in pages:
        page_keys = set()
        for line in lines:
            if _in_edge(line):
                page_keys.add(_running_key(line))
        keys.append(page_keys)
        seen.update(page_keys)
    n = len(pages)
    for lines in pages:
        for line in lines:
            if not _in_edge(line):
                continue
            text = line.text.strip()
            key = _running_key(line)
            if _NUMBER_ONLY.match(text) or _PAGE_WORD.match(text) or (n >= 2 and seen[key] >= max(2, 0.25 * n)):
                line.role = "running"


def _running_key(line: Line) -> tuple:
    """What recurs of a header: its text with any number as "#", at the same height on the page."""
    return _DIGITS.sub("#", line.text.lower()).strip(), round(line.top / 6)


def _in_edge(line: Line) -> bool:
    return line.top < 0.1 * line.page_height or line.bottom > 0.9 * line.page_height


def mark_margins(pages: List[List[Line]], size: float) -> None:
    """Side bars and line numbers: lines wholly left or right of the frame of the body's lines;
    lone numbers and scraps (a figure's axis labels) anywhere."""
    body = [line for lines in pages for line in lines if abs(line.size - size) <= 0.6 and len(line.text) >= 30]
    if len(body) >= 5:
        lefts = sorted(line.x0 for line in body)
        rights = sorted(line.x1 for line in body)
        frame_left, frame_right = lefts[len(lefts) // 20], rights[-1 - len(rights) // 20]
    else:
        frame_left, frame_right = float("-inf"), float("inf")
    for lines in pages:
        for line in lines:
            if line.role != "body":
                continue
            text = line.text.strip()
            if line.x1 < frame_left - 2 or line.x0 > frame_right + 2:
                line.role = "margin"
            elif _NUMBER_ONLY.match(text) and len(text) <= 6:
                line.role = "noise"
            elif not _ALNUM.search(text):
                line.role = "noise"


def page_gutter(lines: List[Line]):
    """The x of the gutter between a page's two columns, or None for a one-column page."""
    content = [line for line in lines if line.role == "body"]
    return _gutter(content, content[0].page_width) if content else None


def document_gutter(gutters: Sequence) -> object:
    """The gutter most pages have (to read a page whose second column is too short to show it)."""
    found = [round(g) for g in gutters if g is not None]
    if not found or len(found) < len(gutters) / 2:
        return None
    return Counter(found).most_common(1)[0][0]


def reading_order(lines: List[Line], gutter=None, hint=None) -> List[Line]:
    """A page's lines in reading order, column by column where the page has two columns
    (``gutter``; ``hint``: the document's gutter, taken where no line crosses it on this page)."""
    content = [line for line in lines if line.role == "body"]
    if not content:
        return []
    if gutter is None and hint is not None:
        texty = [line for line in content if len(line.text) >= 8]
        cross = sum(1 for line in texty if line.x0 < hint - 2 and line.x1 > hint + 2)
        if cross <= 0.15 * len(texty) and any(line.x0 >= hint for line in texty):
            gutter = hint
    if gutter is None:
        for line in content:
            line.column = 0
        return sorted(content, key=lambda line: (round(line.top), line.x0))
    ordered: List[Line] = []
    band: List[Line] = []

    def flush_band() -> None:
        left = [line for line in band if line.x1 <= gutter]
        right = [line for line in band if line.x1 > gutter]
        for line in left:
            line.column = 1
        for line in right:
            line.column = 2
        ordered.extend(sorted(left, key=lambda line: (line.top, line.x0)))
        ordered.extend(sorted(right, key=lambda line: (line.top, line.x0)))
        band.clear()

    for line in sorted(content, key=lambda line: (line.top, line.x0)):
        if line.x0 < gutter - 2 and line.x1 > gutter + 2:  # crosses the gutter: spans the page
            flush_band()
            line.column = 0
            ordered.append(line)
        else:
            band.append(line)
    flush_band()
    return ordered


def _gutter(lines: List[Line], width: float):
    """The x of a vertical white strip in the middle of the page that splits its lines into two columns."""
    texty = [line for line in lines if len(line.text) >= 8]
    if len(texty) < 6:
        return None
    best, best_cross = None, None
    for step in range(30, 71):
        x = width * step / 100
        cross = sum(1 for line in texty if line.x0 < x - 2 and line.x1 > x + 2)
        left = sum(1 for line in texty if line.x1 <= x)
        right = sum(1 for line in texty if line.x0 >= x)
        if min(left, right) < max(3, 0.1 * len(texty)):
            continue
        if best_cross is None or cross < best_cross or (cross == best_cross and abs(x - width / 2) < abs(best - width / 2)):
            best, best_cross = x, cross
    if best is None or best_cross > 0.15 * len(texty):
        return _gutter_below_band(texty, width)
    return best


def _gutter_below_band(texty: List[Line], width: float):
    """The gutter of a page whose columns start below a band of lines across the page (a first
    page's title, authors and abstract set across both columns): the strip must split the lines
    below the band, each column holding at least a quarter of them in lines of running text."""
    best, best_cross = None, None
    for step in range(30, 71):
        x = width * step / 100
        left = [line for line in texty if line.x1 <= x]
        right = [line for line in texty if line.x0 >= x]
        if not left or not right:
            continue
        start = max(min(line.top for line in left), min(line.top for line in right)) - 1
        below = [line for line in texty if line.top >= start]
        cross = sum(1 for line in below if line.x0 < x - 2 and line.x1 > x + 2)
        n_left = sum(1 for line in left if line.top >= start)
        n_right = sum(1 for line in right if line.top >= start)
        if min(n_left, n_right) < max(8, 0.25 * len(below)) or cross > 0.15 * len(below):
            continue
        # columns of running text fill their width; a table's cells or a side bar's lines do not
        if min(_median([l.width for l in left]), _median([l.width for l in right])) < 0.28 * width:
            continue
        if best_cross is None or cross < best_cross or (cross == best_cross and abs(x - width / 2) < abs(best - width / 2)):
            best, best_cross = x, cross
    return best


def _median(values: List[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2] if values else 0.0


def line_pitch(pages: List[List[Line]], size: float) -> float:
    """The usual distance between the tops of two lines of one paragraph."""
    steps = []
    for lines in pages:
        for a, b in zip(lines, lines[1:]):
            if a.column == b.column and abs(a.size - size) < 0.6 and abs(b.size - size) < 0.6:
                step = b.top - a.top
                if 0.8 * size < step < 2.5 * size:
                    steps.append(step)
    if not steps:
        return 1.2 * size
    steps.sort()
    return steps[len(steps) // 2]


def mark_shared_baselines(ordered: List[Line]) -> None:
    """Tag lines that share their baseline with another line of the same column: table cells, not headings."""
    by_top = sorted(ordered, key=lambda line: line.top)
    for i, line in enumerate(by_top):
        for other in by_top[i + 1:]:
            if other.top >= line.bottom:
                break
            overlap = min(line.bottom, other.bottom) - max(line.top, other.top)
            if other.column == line.column and overlap > 0.5 * min(line.height, other.height):
                line.shared_baseline = other.shared_baseline = True


def blocks(ordered: List[Line], size: float, pitch: float) -> List[Block]:
    """Lines in reading order gathered into blocks (see the module's docstring)."""
    out: List[Block] = []
    current: List[Line] = []
    column_left: Dict = {}
    column_right: Dict = {}
    rights: Dict = {}
    for line in ordered:
        key = (line.page, line.column)
        column_left[key] = min(column_left.get(key, line.x0), line.x0)
        rights.setdefault(key, []).append(line.x1)
    for key, values in rights.items():
        # the right edge most lines reach: a line that runs over it (a long word, a formula) does not move it
        values.sort()
        column_right[key] = values[int(0.9 * (len(values) - 1))]
    stacked: List[bool] = []  # per block: whether it starts as a heading stacked under another
    opens = True  # whether the block being gathered starts a paragraph (not the rest of a sentence)
    for line in ordered:
        if current:
            prev = current[-1]
            gap = line.top - prev.top
            new = (
                line.page != prev.page
                or line.column != prev.column
                or gap > 1.45 * pitch * max(1.0, line.size / size)
                or gap < -0.5 * pitch
                or abs(line.size - prev.size) > 0.6
                or (line.bold >= 0.75) != (prev.bold >= 0.75)
                or (line.italic >= 0.75) != (prev.italic >= 0.75)
                or line.small_caps != prev.small_caps
                # a centred heading in capitals over its paragraph, with no other change of type
                or (_set_apart(prev, size) and _centred(prev, column_left, column_right, size)
                    and not _centred(line, column_left, column_right, size))
                or _indented(line, prev, column_left, size)
                or _CAPTION.match(line.text)
            )
            if new and len(current) == 1 and _run_in_goes_on(prev, line, gap, pitch) and opens:
                new = False
            under = not new and _stacked_heading(line, prev, gap, pitch, size, column_left, column_right)
            if new or under:
                out.append(Block(current, tags={"opens": opens}))
                stacked.append(bool(under))
                opens = _opens_paragraph(prev, line, gap, pitch, size)
                current = []
        current.append(line)
    if current:
        out.append(Block(current, tags={"opens": opens}))
        stacked.append(False)
    out = _unstack_lists(out, stacked)
    for block in out:
        if _CAPTION.match(block.lines[0].text):
            block.role = "caption"
        first = block.lines[0]
        key = (first.page, first.column)
        left, right = column_left[key], column_right[key]
        block.tags["indent"] = (first.x0 - left) / size
        block.tags["centred"] = _centred(first, column_left, column_right, size)
        block.tags["shared_baseline"] = any(line.shared_baseline for line in block.lines)
    return out


def _unstack_lists(out: List[Block], stacked: List[bool]) -> List[Block]:
    """Blocks split as stacked headings made one again where more than ``MAX_STACKED`` follow each other:
    a table of contents or a list in bold, not headings over headings."""
    merged: List[Block] = []
    i = 0
    while i < len(out):
        j = i + 1
        while j < len(out) and stacked[j - 1]:
            j += 1
        # out[i:j] is a block followed by the blocks stacked under it
        if j - i - 1 > MAX_STACKED:
            merged.append(Block([line for block in out[i:j] for line in block.lines], role=out[i].role,
                                 tags=dict(out[i].tags)))
        else:
            merged.extend(out[i:j])
        i = j
    return merged


def _centred(line: Line, column_left: Dict, column_right: Dict, size: float) -> bool:
    """A line set in the middle of its column (a centred heading), not from its left edge."""
    key = (line.page, line.column)
    left, right = column_left[key], column_right[key]
    return abs((line.x0 + line.x1) / 2 - (left + right) / 2) < size and line.x0 - left > size


def _run_in_goes_on(prev: Line, line: Line, gap: float, pitch: float) -> bool:
    """A paragraph's first line wholly in bold (or italic) over the next line at the line pitch: a run-in
    heading over two lines (the next line starts in the same face and goes on in another), or one that
    fills its line (it ends in a full stop or a dash and the next line is in another face)."""
    if not (prev.lead == prev.text and prev.lead_face and line.page == prev.page and line.column == prev.column
            and 0 < gap <= 1.2 * pitch and abs(line.size - prev.size) <= 0.6):
        return False
    if line.lead_face == prev.lead_face:
        return bool(line.lead) and line.lead != line.text
    return not line.lead and bool(RUN_IN_END.search(prev.text))


def _opens_paragraph(prev: Line, line: Line, gap: float, pitch: float, size: float) -> bool:
    """Whether ``line``, which starts a block, starts a paragraph after ``prev`` rather than going on
    with its sentence in another face: after a sentence's end, a heading, a wider gap, or a column break."""
    return (line.page != prev.page or line.column != prev.column or gap > 1.2 * pitch
            or bool(re.search(r"[.!?:)\]]$", prev.text.strip())) or _set_apart(prev, size))


def _set_apart(line: Line, size: float) -> bool:
    """A line in another type than the body's: bold, italic, small capitals, capitals, or another size."""
    letters = [ch for ch in line.text if ch.isalpha()]
    caps = len(letters) >= 3 and sum(1 for ch in letters if ch.isupper()) >= 0.8 * len(letters)
    return line.bold >= 0.75 or line.italic >= 0.75 or line.small_caps or caps or abs(line.size - size) > 0.6


def _stacked_heading(line: Line, prev: Line, gap: float, pitch: float, size: float, column_left: Dict,
                     column_right: Dict) -> bool:
    """A heading with little space above it: a line in a type set apart from the body's that stands
    further below the line before it than the line pitch, or that starts with a section's number
    under another heading ("2. RESULTS" over "2.1 Data": a line set apart too, that stops short of
    its column's right edge)."""
    if not _set_apart(line, size):
        return False
    # from top to top and from bottom to bottom: a line without capitals or ascenders ("coverage") has its
    # top lower, one with descenders its bottom; a larger heading's lines stand wider
    step = min(gap, line.bottom - prev.bottom)
    if step > 1.2 * pitch * max(1.0, line.size / size, prev.size / size):
        return True
    key = (line.page, line.column)
    left, right = column_left[key], column_right[key]
    return (prev.x1 < left + 0.75 * (right - left) and _set_apart(prev, size)
            and bool(_NUMBERED_START.match(line.text)))


def _indented(line: Line, prev: Line, column_left: Dict, size: float) -> bool:
    """A paragraph's indented first line after a line that ends a sentence."""
    left = column_left[(line.page, line.column)]
    return (0.8 * size < line.x0 - left < 4 * size and prev.x0 - left < 0.5 * size
            and prev.text.rstrip().endswith((".", "?", "!", ":")))
