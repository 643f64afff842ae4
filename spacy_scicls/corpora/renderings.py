"""One paper, many plain texts: the ways PDF-to-text tools and copy-pastes render a printed paper.

A paper arrives as plain text in many layouts: the PDF's lines with an
empty line between blocks or with none, each paragraph on one line (a
copy-paste, a word processor's export), with the running headers, footers
and page numbers of each page left in, with a manuscript's line numbers in
front of every line, from one wide column or two narrow ones, or with two
narrow columns set side by side on each page, as ``pdftotext -layout`` prints them.
:func:`render` writes a paper's :class:`~.printed.PrintedBlock` s in one of
these layouts (a :class:`Rendering`) and says which output lines are its
heading lines, so that the heading-line scorer can be trained and judged on
all of them. :data:`RENDERINGS` names the layouts the evaluation reports;
:func:`draw_rendering` draws a random one for training. The same blocks,
rendering and seed give the same text.
"""
from dataclasses import dataclass
from typing import Dict, List, Sequence, Set, Tuple

import numpy

from ..segmentation.lines import join_lines
from .pdf_layout import wrap
from .printed import PrintedBlock

#: Blocks that a reflowing tool joins into one line; tables and figure text keep their lines.
_JOINED = ("heading", "paragraph", "caption", "reference")


@dataclass(frozen=True)
class Rendering:
    """How a paper's printed blocks become plain text.

    ``blank_lines``: the chance of an empty line between two blocks (1: after
    every block, 0: never). ``reflow``: each heading, paragraph and caption on
    one line, its end-of-line hyphens joined. ``width``: 0 keeps the lines as
    printed, else every block is wrapped again at this many characters (a
    narrow width is a two-column page), words split with an added hyphen at
    ``hyphen_rate``. ``page_lines``: 0 for no pages, else a page break after
    about that many lines, with the page's running footer and the next
    page's running header (page numbers, a journal line, the authors, a
    short title), drawn per paper. ``line_numbers``: a manuscript's running
    line number in front of every non-empty line. ``heading_gap``: False sets a
    heading right on top of its first paragraph, with the empty lines only
    between the other blocks (as the readers' text and many tools give it).
    ``side_by_side``: 0 for one column, else pages of two columns of about
    that many lines each (wrapped at ``width``) set side by side, each text
    line holding a line of the left column, a gutter of spaces and a line of
    the right one, with a running header and a page number across the page
    and a form feed before each new page (``pdftotext -layout``); a line of
    such a page is a heading line when a heading stands in either column."""

    blank_lines: float = 0.0
    reflow: bool = False
    width: int = 0
    hyphen_rate: float = 0.0
    page_lines: int = 0
    line_numbers: bool = False
    heading_gap: bool = True
    side_by_side: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.blank_lines <= 1.0 or not 0.0 <= self.hyphen_rate <= 1.0:
            raise ValueError("blank_lines and hyphen_rate are probabilities, between 0 and 1")
        if self.width < 0 or self.page_lines < 0:
            raise ValueError("width and page_lines are 0 (off) or positive")
        if self.width and self.width < 20:
            raise ValueError(f"a column of {self.width} characters is narrower than any printed page")
        if self.side_by_side and (self.side_by_side < 10 or not self.width or self.reflow or self.page_lines
                                  or self.line_numbers):
            raise ValueError("side_by_side sets pages of 10 lines or more per column, wrapped at a width, "
                             "and no other pages, reflow or line numbers")


#: The layouts the evaluation reports, by name. The first three are the ones
#: users' tools produce most: PDF lines with an empty line between blocks, with
#: none, and paragraphs reflowed to one line each.
RENDERINGS: Dict[str, Rendering] = {
    "pdf_lines_blank": Rendering(blank_lines=1.0),
    "pdf_lines": Rendering(),
    "reflowed": Rendering(reflow=True),
    "reflowed_blank": Rendering(reflow=True, blank_lines=1.0),
    "page_furniture": Rendering(page_lines=48),
    "line_numbers": Rendering(page_lines=48, line_numbers=True),
    "two_columns": Rendering(width=42, hyphen_rate=0.5),
    "one_wide_column": Rendering(width=110, hyphen_rate=0.2, blank_lines=0.5),
    # Last, so that the renderings above keep their seeds in scripts/evaluate_headings.py.
    "reflowed_paragraph_gaps": Rendering(reflow=True, blank_lines=1.0, heading_gap=False),
    # Appended after it for the same reason: two columns of 42 characters side by side, 47-53 lines each.
    "side_by_side": Rendering(width=42, hyphen_rate=0.5, blank_lines=0.5, side_by_side=50),
}


def draw_rendering(rng: numpy.random.Generator) -> Rendering:
    """A random layout for training: empty lines between blocks always, never
    or at random; reflowed paragraphs one time in four; otherwise the printed
    lines, or lines wrapped again at a narrow (32-55) or wide (80-130) width;
    pages with running headers and footers in half the papers, line numbers
    in one in six; a heading right on its paragraph (``heading_gap=False``)
    in two in five, as the readers' text and many tools set it."""
    blank = float(rng.choice([0.0, 0.0, 1.0, 1.0, rng.uniform(0.2, 0.9)]))
    reflow = bool(rng.random() < 0.25)
    width = 0
    if not reflow:
        choice = rng.random()
        if choice < 0.25:
            width = int(rng.integers(32, 56))
        elif choice < 0.45:
            width = int(rng.integers(80, 131))
    return Rendering(
        blank_lines=blank,
        reflow=reflow,
        width=width,
        hyphen_rate=float(rng.choice([0.0, 0.2, 0.5])) if width else 0.0,
        page_lines=int(rng.integers(30, 71)) if rng.random() < 0.5 else 0,
        line_numbers=bool(rng.random() < 1 / 6),
        # Drawn last, so that the other options keep the values they were drawn with before it came.
        heading_gap=bool(rng.random() >= 0.4),
    )


def _block_lines(block: PrintedBlock, rendering: Rendering, rng: numpy.random.Generator) -> List[str]:
    if rendering.reflow:
        return [join_lines(block.lines)] if block.kind in _JOINED else list(block.lines)
    if not rendering.width:
        return list(block.lines)
    if block.kind in _JOINED:
        rate = 0.0 if block.kind == "heading" else rendering.hyphen_rate
        return wrap(join_lines(block.lines), rendering.width, rng, rate)[0]
    # A table row or a figure's words longer than the new column wrap, no hyphens.
    return [piece for line in block.lines for piece in (wrap(line, rendering.width)[0] or [line])]


_JOURNALS = ("Journal of Applied Ecology", "Nucleic Acids Research", "Scientific Reports",
             "Proceedings of the National Academy of Sciences", "Physical Review B", "BMC Bioinformatics",
             "Computational Linguistics", "Environmental Research Letters", "PLOS ONE", "Nature Communications")
_AUTHORS = ("Smith et al.", "García and Chen", "Müller, Okafor and Lindqvist", "Y. Tanaka et al.", "NGUYEN ET AL.",
            "A. Kowalski, B. Haddad", "Rossi et al.")


@dataclass(frozen=True)
class _PageStyle:
    header: str          # "", "journal", "authors", "title", "alternate"
    footer: str          # "", "number", "page_of", "dashes", "copyright"
    journal: str
    authors: str
    title: str
    year: int
    first_page: int


def _page_style(blocks: Sequence[PrintedBlock], rng: numpy.random.Generator) -> _PageStyle:
    # A running title is a few words of the paper's own text, title-cased as
    # journals set them: the hard case, a short capitalised line that is no heading.
    words = [w for b in blocks if b.kind == "paragraph" for w in " ".join(b.lines).split()
             if w.isalpha() and len(w) > 2][:40]
    start = int(rng.integers(0, max(len(words) - 6, 1))) if words else 0
    title = " ".join(w.capitalize() for w in words[start : start + int(rng.integers(3, 8))])
    if title and rng.random() < 0.3:
        title = title.upper()
    return _PageStyle(
        header=str(rng.choice(["", "journal", "authors", "title", "alternate"])),
        footer=str(rng.choice(["", "number", "number", "page_of", "dashes", "copyright"])),
        journal=str(rng.choice(_JOURNALS)),
        authors=str(rng.choice(_AUTHORS)),
        title=title or "Running Title",
        year=int(rng.integers(1995, 2026)),
        first_page=int(rng.choice([1, 1, int(rng.integers(2, 900))])),
    )


def _header(style: _PageStyle, page: int, pages: int) -> List[str]:
    kind = style.header
    if kind == "alternate":
        kind = "authors" if page % 2 == 0 else "title"
    if kind == "journal":
        return [f"{style.journal} ({style.year}) {page}"]
    if kind == "authors":
        return [f"{page} {style.authors}" if page % 2 == 0 else style.authors]
    if kind == "title":
        return [style.title if page % 2 else f"{page} {style.title}"]
    return []


def _footer(style: _PageStyle, page: int, pages: int) -> List[str]:
    if style.footer == "number":
        return [str(page)]
    if style.footer == "page_of":
        return [f"Page {page} of {pages}"]
    if style.footer == "dashes":
        return [f"- {page} -"]
    if style.footer == "copyright":
        return [f"© {style.year} The Authors. {style.journal}", str(page)]
    return []


def render(blocks: Sequence[PrintedBlock], rendering: Rendering, seed: int = 0) -> Tuple[List[str], Set[int]]:
    """``(lines, gold)``: the paper's blocks as plain-text lines in ``rendering``
    (empty lines included) and the indices of the lines of its headings. The
    same blocks, rendering and seed give the same lines."""
    rng = numpy.random.default_rng(seed)
    lines: List[str] = []
    gold: Set[int] = set()
    previous = ""
    for block in blocks:
        body = [line for line in _block_lines(block, rendering, rng) if line.strip()]
        if not body:
            continue
        gap = rendering.heading_gap or previous != "heading"
        if lines and gap and rendering.blank_lines and (rendering.blank_lines >= 1.0
                                                        or rng.random() < rendering.blank_lines):
            lines.append("")
        previous = block.kind
        if block.kind == "heading":
            gold.update(range(len(lines), len(lines) + len(body)))
        lines.extend(body)
    if rendering.page_lines:
        lines, gold = _paginate(lines, gold, blocks, rendering, rng)
    if rendering.side_by_side:
        lines, gold = _side_by_side(lines, gold, blocks, rendering, rng)
    if rendering.line_numbers:
        lines = _number_lines(lines, rng)
    return lines, gold


def _paginate(lines: List[str], gold: Set[int], blocks: Sequence[PrintedBlock], rendering: Rendering,
              rng: numpy.random.Generator) -> Tuple[List[str], Set[int]]:
    """Page breaks after about ``rendering.page_lines`` lines each, wherever they
    fall (in a paragraph, between a heading and its text), with the footer of
    the page ending and the header of the next one; an empty line around them
    when the rendering puts empty lines between blocks."""
    style = _page_style(blocks, rng)
    breaks: List[int] = []
    at = 0
    while True:
        at += max(8, rendering.page_lines + int(rng.integers(-5, 6)))
        if at >= len(lines):
            break
        breaks.append(at)
    pages = len(breaks) + 1
    out: List[str] = []
    out_gold: Set[int] = set()
    blank = rendering.blank_lines >= 0.5
    page = style.first_page
    last_page = style.first_page + pages - 1
    cut = set(breaks)
    for i, line in enumerate(lines):
        if i in cut:
            furniture = _footer(style, page, last_page)
            page += 1
            furniture += _header(style, page, last_page)
            if furniture:
                if blank and out and out[-1]:
                    out.append("")
                out.extend(furniture)
                if blank:
                    out.append("")
        if i in gold:
            out_gold.add(len(out))
        out.append(line)
    return out, out_gold


def _side_by_side(lines: List[str], gold: Set[int], blocks: Sequence[PrintedBlock], rendering: Rendering,
                  rng: numpy.random.Generator) -> Tuple[List[str], Set[int]]:
    """Pages of two columns of about ``rendering.side_by_side`` lines each, set
    side by side: the left column's lines padded to the column's width, then a
    gutter of spaces, then the right column's line; a margin before both
    (drawn per paper), the running header above and the page number below,
    centred on the page; a form feed at the start of every page after the first."""
    style = _page_style(blocks, rng)
    margin = int(rng.choice([0, 0, 4, 8]))
    gutter = int(rng.choice([2, 3, 4, 6, 8]))
    width = rendering.width
    page_width = 2 * width + gutter
    out: List[str] = []
    out_gold: Set[int] = set()
    pages = []
    at = 0
    while at < len(lines):
        height = max(10, rendering.side_by_side + int(rng.integers(-3, 4)))
        pages.append((at, min(at + height, len(lines)), min(at + 2 * height, len(lines))))
        at += 2 * height
    first = style.first_page
    for number, (start, middle, end) in enumerate(pages):
        page_lines = []
        for line in _header(style, first + number, first + len(pages) - 1):
            page_lines.append((" " * margin + line.center(page_width).rstrip(), False))
        left, right = lines[start:middle], lines[middle:end]
        for k in range(max(len(left), len(right))):
            left_line = left[k] if k < len(left) else ""
            right_line = right[k] if k < len(right) else ""
            text = (left_line.ljust(width + gutter) + right_line) if right_line else left_line
            is_gold = (k < len(left) and start + k in gold) or (k < len(right) and middle + k in gold)
            page_lines.append(((" " * margin + text).rstrip() if text.strip() else "", is_gold))
        for line in _footer(style, first + number, first + len(pages) - 1):
            page_lines.append((" " * margin + line.center(page_width).rstrip(), False))
        for k, (text, is_gold) in enumerate(page_lines):
            if is_gold:
                out_gold.add(len(out))
            out.append(("\f" if number and not k else "") + text)
    return out, out_gold


def _number_lines(lines: List[str], rng: numpy.random.Generator) -> List[str]:
    """A manuscript's line numbers: every non-empty line, counted from 1 over
    the paper or again on each page, then a space or a tab, sometimes right-aligned."""
    pad = int(rng.choice([0, 0, 3, 4]))
    sep = str(rng.choice([" ", " ", "\t", "  "]))
    out: List[str] = []
    n = 0
    for line in lines:
        if not line.strip():
            out.append(line)
            continue
        n += 1
        out.append(f"{n:>{pad}}{sep}{line}" if pad else f"{n}{sep}{line}")
    return out
