"""Two columns set side by side in plain text, read column by column.

A PDF-to-text tool that keeps the layout (``pdftotext -layout``,
pdfplumber's ``extract_text(layout=True)``) prints a two-column page as it
looks: each text line holds a line of the left column, a run of spaces (the
gutter) and a line of the right column. Read line by line, every line mixes
two sentences and no heading stands on a line of its own. :func:`read_columns`
finds such pages and gives the text in reading order: on each page, the
left column, then the right column.

A page (the text between form feeds, which these tools put after every
page; the whole text when it has none) is set in two columns when one
character position ``R`` is the left edge of a column:

- at least :data:`MIN_SIDE_BY_SIDE` lines have text, then two spaces or
  more, then text starting exactly at ``R`` (the two columns side by side);
- of the lines with text on both sides of the gutter, :data:`MIN_ALIGNED`
  or more start the right side exactly at ``R`` (a gap between words that
  some lines of justified text share is followed by text anywhere);
- at most :data:`MAX_CROSSING` of the page's text lines have a character in
  the two positions before ``R`` (a title, a wide caption, a running header
  cross the gutter; a paragraph of one-column text crosses any position in
  its middle, so one-column text never qualifies);
- what stands right of the gutter is running text, not a table's cells:
  a quarter of its lines or more have :data:`MIN_PROSE_CHARS` characters
  or more, three in four of their characters are letters, few are code's
  symbols (``=``, ``_``, brackets, ``#``) and fewer than half of its lines
  start like a comment (``#``, ``//``, ``%``);
- the left side is running text too, or a narrow side bar (``R`` in the
  first :data:`SIDE_BAR_SHARE` of the page's width: the journal's box of
  dates, licence and links beside page 1's text) whose lines are words,
  not a manuscript's line numbers.

Where several positions qualify, the one that the fewest lines cross wins
(then the one with the most lines holding both columns). A page whose
right column is too short or not running text (the last page, a page of
tables) takes the edge that most two-column pages of the text have, when
few of its lines cross it. The lines
that cross the gutter cut the page into bands, read top to bottom, each
band left column first; a crossing line stays where it is, whole. A page
with a tab is left as it is: tabs set tables and code, no PDF-to-text tool
sets columns with them. One-column text, a table inside one-column text,
code, verse and a manuscript's line numbers come through unchanged.

The reading-order text keeps every character of the page's lines (white
space at the ends of the column lines aside) and :class:`ColumnText` says
which pages were rewritten, how many lines were split, and where each line
of the new text came from (:meth:`ColumnText.source_spans`).
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

#: Lines with text on both sides of the gutter that make a page two-column.
MIN_SIDE_BY_SIDE = 4
#: Most of a page's text lines that may cross the gutter (title, furniture, a wide caption).
MAX_CROSSING = 0.3
#: Least share of the lines with text on both sides of the gutter whose right side starts right at
#: the edge (a paragraph's indented first line does not).
MIN_ALIGNED = 0.7
#: The length that a quarter of a running-text column's lines reach at least, and their least share of letters.
MIN_PROSE_CHARS = 20
MIN_LETTER_SHARE = 0.75
#: Most of a running-text column's characters that may be the symbols that code is written with
#: (``= _ { } [ ] ; #``): a page of mathematics has some, a page of code many.
MAX_CODE_SHARE = 0.1
#: A left column this narrow (share of the page's width) is a side bar: its lines need not be prose,
#: but they are words (half of their characters letters at least), not a manuscript's line numbers.
SIDE_BAR_SHARE = 0.3
SIDE_BAR_LETTERS = 0.5
#: The gutter: spaces before the right column's left edge on every line that does not cross it.
GUTTER = 2


@dataclass
class ColumnText:
    """The text in reading order and what was done to get it.

    ``pages``: the 1-based pages read column by column; ``lines``: how many
    of their lines held both columns; ``pieces``: ``(offset in text, offset
    in the source, length)`` of each stretch of the text copied from the
    source (a page left as it is, or one column's part of a line), in order;
    empty when nothing was rewritten."""

    text: str
    pages: List[int] = field(default_factory=list)
    lines: int = 0
    pieces: List[Tuple[int, int, int]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.pages)

    def meta(self) -> dict:
        """What the reader records in ``doc._.scicls_meta["columns_split"]``."""
        return {"pages": list(self.pages), "lines": self.lines}

    def source_spans(self, spans: Sequence[Tuple[int, int]]) -> List[Tuple[int, int]]:
        """Character spans of the reading-order text as spans of the source
        text: a span over several rewritten lines becomes one span per line."""
        if not self.pieces:
            return [tuple(s) for s in spans]
        out: List[Tuple[int, int]] = []
        for start, end in spans:
            for at, source, length in self.pieces:
                lo, hi = max(start, at), min(end, at + length)
                if lo < hi:
                    out.append((source + lo - at, source + hi - at))
        return out


_CODE_SYMBOLS = frozenset("=_{}[]<>;#\\|")
#: How code's comments start: comments aligned beside code are a column of their own, but not running text.
_COMMENT_MARKS = ("#", "//", "/*", "--", "%", ";")


def _letter_share(texts: Sequence[str]) -> float:
    chars = [c for t in texts for c in t if not c.isspace()]
    return sum(c.isalpha() for c in chars) / len(chars) if chars else 0.0


def _code_share(texts: Sequence[str]) -> float:
    chars = [c for t in texts for c in t if not c.isspace()]
    return sum(c in _CODE_SYMBOLS for c in chars) / len(chars) if chars else 0.0


def _prose(parts: Sequence[str]) -> bool:
    """Whether a column's lines are running text: a quarter of them or more are long (wrapped lines
    fill the column; a paragraph's last line, a heading or a short table beside them do not), and
    they are mostly letters."""
    parts = [p.strip() for p in parts if p.strip()]
    if not parts:
        return False
    lengths = sorted(len(p) for p in parts)
    comments = sum(1 for p in parts if p.startswith(_COMMENT_MARKS))
    return (lengths[(3 * len(lengths)) // 4] >= MIN_PROSE_CHARS and _letter_share(parts) >= MIN_LETTER_SHARE
            and _code_share(parts) <= MAX_CODE_SHARE and comments < 0.5 * len(parts))


def _clear(line: str, edge: int) -> bool:
    """Whether ``line`` has only spaces in the gutter before ``edge``."""
    return not line[max(edge - GUTTER, 0):edge].strip()


def column_edge(lines: Sequence[str]) -> Optional[int]:
    """The left edge of the right column when ``lines`` (one page) are two
    columns side by side, else None (see the module's rules)."""
    text_lines = [line for line in lines if line.strip()]
    if len(text_lines) < MIN_SIDE_BY_SIDE:
        return None
    width = max(len(line.rstrip()) for line in text_lines)
    # Candidates: positions where a text run starts after the gutter, with text on its left.
    counts: dict = {}
    for line in text_lines:
        for edge in range(GUTTER + 1, len(line)):
            if line[edge] != " " and line[edge - 1] == " " and _clear(line, edge) and line[:edge - GUTTER].strip():
                counts[edge] = counts.get(edge, 0) + 1
    # The gutter is crossed by the fewest lines: a position inside a column, between two words that
    # several lines happen to share, is crossed by most of the column's lines.
    crossings = {edge: sum(1 for line in text_lines if not _clear(line, edge))
                 for edge, both in counts.items() if both >= MIN_SIDE_BY_SIDE}
    best = None
    for edge in sorted(crossings, key=lambda e: (crossings[e], -counts[e], e)):
        if crossings[edge] > MAX_CROSSING * len(text_lines):
            break
        clear = [line for line in text_lines if _clear(line, edge)]
        # A column's lines start at its edge; the gap between two words that a few lines of justified
        # text share lets the text after it start anywhere.
        two_sided = sum(1 for line in clear if line[:edge - GUTTER].strip() and line[edge:].strip())
        if counts[edge] < MIN_ALIGNED * two_sided:
            continue
        right = [line[edge:] for line in clear if line[edge:].strip()]
        left = [line[:edge] for line in clear if line[:edge].strip()]
        if not _prose(right):
            continue
        if not (_prose(left) or (edge <= SIDE_BAR_SHARE * width and _letter_share(left) >= SIDE_BAR_LETTERS)):
            continue
        best = edge
        break
    return best


def _fits(lines: Sequence[str], edge: int) -> Optional[int]:
    """``edge`` if a page's lines allow two columns there, else None: few lines cross the gutter,
    and the page has :data:`MIN_SIDE_BY_SIDE` lines with text on both sides of it (its right
    column holds a table, say), or one such line and running text on the right (the last page)."""
    text_lines = [line for line in lines if line.strip()]
    clear = [line for line in text_lines if _clear(line, edge)]
    if len(text_lines) - len(clear) > MAX_CROSSING * len(text_lines):
        return None
    both = sum(1 for line in clear if line[:edge - GUTTER].strip() and line[edge:edge + 1].strip())
    if both >= MIN_SIDE_BY_SIDE:
        return edge
    return edge if both and _prose([line[edge:] for line in clear if line[edge:].strip()]) else None


def _read_page(lines: List[str], edge: int) -> Tuple[List[Tuple[str, int, int]], int]:
    """The page's lines in reading order, each as ``(text, source line, source column)``,
    and how many source lines held both columns."""
    out: List[Tuple[str, int, int]] = []
    band: List[int] = []
    split = 0

    def flush() -> None:
        left = [(lines[i][:edge].rstrip(), i, 0) for i in band]
        right = [(lines[i][edge:].rstrip(), i, edge) for i in band]
        # A side with nothing on a line where the other side has text is no gap in that column when
        # the columns' lines do not share baselines (each physical line holds one side only); it is
        # one where most lines hold both sides (pdftotext's layout: an empty line in one column).
        both = sum(1 for (l, _, _), (r, _, _) in zip(left, right) if l.strip() and r.strip())
        one = sum(1 for (l, _, _), (r, _, _) in zip(left, right) if bool(l.strip()) != bool(r.strip()))
        keep_gaps = both >= one
        for side, other in ((left, right), (right, left)):
            for (text, i, col), (other_text, _, _) in zip(side, other):
                if text.strip() or keep_gaps or not other_text.strip():
                    out.append((text, i, col))
        band.clear()

    for i, line in enumerate(lines):
        if line.strip() and not _clear(line, edge):
            flush()
            out.append((line, i, 0))
            continue
        if line[:edge].strip() and line[edge:].strip():
            split += 1
        band.append(i)
    flush()
    return out, split


def read_columns(text: str) -> ColumnText:
    """``text`` in reading order: every page set as two columns side by side read
    column by column; other pages, and a text with no such page, unchanged."""
    pages = text.split("\f")
    edges = [None if "\t" in page else column_edge(page.splitlines()) for page in pages]
    found = [edge for edge in edges if edge is not None]
    if not found:
        return ColumnText(text)
    # A page whose right column is too short or not running text to show the gutter (the last page,
    # a page of tables) takes the edge most pages have, when its lines allow it.
    usual = Counter(found).most_common(1)[0][0]
    edges = [edge if edge is not None or "\t" in page else _fits(page.splitlines(), usual)
             for page, edge in zip(pages, edges)]
    out: List[str] = []
    result = ColumnText("")
    at = 0          # offset in the new text
    source_at = 0   # offset in the source text
    for number, page in enumerate(pages, 1):
        if number > 1:
            out.append("\f")
            at += 1
            source_at += 1
        raw = page.splitlines(keepends=True)
        lines = page.splitlines()
        edge = edges[number - 1]
        if edge is None:
            result.pieces.append((at, source_at, len(page)))
            out.append(page)
            at += len(page)
            source_at += len(page)
            continue
        starts = []
        offset = source_at
        for line in raw:
            starts.append(offset)
            offset += len(line)
        ordered, split = _read_page(lines, edge)
        result.pages.append(number)
        result.lines += split
        for k, (line, i, col) in enumerate(ordered):
            result.pieces.append((at, starts[i] + col, len(line)))
            end = "\n" if k + 1 < len(ordered) or page.endswith(("\n", "\r")) else ""
            out.append(line + end)
            at += len(line) + len(end)
        source_at += len(page)
    result.text = "".join(out)
    return result


__all__ = ["ColumnText", "column_edge", "read_columns"]
