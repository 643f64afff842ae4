"""Real papers typeset as PDFs in many house styles: the PDF reader measured on layouts it was not tuned on.

A gold paper (its title, abstract, and body as headings with their levels
and paragraphs, :func:`.pdf_layout.reader_blocks`) is set on A4 pages by
reportlab in a :class:`HouseStyle`: the face of its headings and of its
sub-headings (bold in the body's size, larger, small capitals, italic,
capitals, centred, run in at the start of their paragraph's first line),
their numbering ("1", "1.", "1.1", "IV.", "A."), one or two columns, a
running header and page numbers, line numbers in the margin, justified
lines, the body's size (9 to 11 points) and leading, indented paragraphs.
:data:`HOUSE_STYLES` names the styles of known kinds of papers (an IEEE
conference paper, an Elsevier article, a bioRxiv preprint, ...);
:func:`draw_style` draws further combinations from a seed.

The gold of a typeset paper is the text of every heading it prints
(:attr:`TypesetPaper.gold`). The same paper and style always give the same
PDF bytes (reportlab's invariant mode; a drawn style depends on its seed
only). The standard PDF fonts hold the Windows-1252 characters only: other
characters are printed as their closest ASCII letter (an accent dropped) or
as "?", in the headings' gold too.

Needs reportlab (``pip install reportlab``; the ``dev`` extra has it).
"""
import io
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence, Tuple

import numpy

from .pdf_layout import Block

#: Faces of a heading (``HeadingStyle.face``).
FACES = ("bold", "regular", "italic", "bold_italic", "small_caps", "caps", "bold_caps")
#: Numberings of a heading (``HeadingStyle.numbering``): none, "2", "2.", "2.1" (the parents'
#: numbers too), "IV.", "B.".
NUMBERINGS = ("none", "1", "1.", "1.1", "I.", "A.")
FONTS = {
    "Times": {"regular": "Times-Roman", "bold": "Times-Bold", "italic": "Times-Italic",
              "bold_italic": "Times-BoldItalic"},
    "Helvetica": {"regular": "Helvetica", "bold": "Helvetica-Bold", "italic": "Helvetica-Oblique",
                  "bold_italic": "Helvetica-BoldOblique"},
}
SMALL_CAPS_RATIO = 0.78  # a faked small capital's size against a capital's, as TeX's Times sets them
PAGE_WIDTH, PAGE_HEIGHT = 595.28, 841.89  # A4


@dataclass(frozen=True)
class HeadingStyle:
    """How headings of one level are printed."""

    face: str = "bold"
    numbering: str = "none"
    size_ratio: float = 1.0  # against the body's size
    centred: bool = False
    run_in: bool = False  # printed at the start of its paragraph's first line, ending in a full stop
    space_above: float = 1.0  # in lines of the body

    def __post_init__(self) -> None:
        if self.face not in FACES:
            raise ValueError(f"unknown heading face {self.face!r}; faces are {', '.join(FACES)}")
        if self.numbering not in NUMBERINGS:
            raise ValueError(f"unknown numbering {self.numbering!r}; numberings are {', '.join(NUMBERINGS)}")


@dataclass(frozen=True)
class HouseStyle:
    """A journal's page: its headings (level 1) and sub-headings (levels 2 and below), and its body."""

    name: str
    heading: HeadingStyle
    sub_heading: HeadingStyle
    columns: int = 1
    body_size: float = 10.0
    font: str = "Times"
    leading: float = 1.2  # line pitch in body sizes
    justified: bool = False
    running_header: bool = True
    line_numbers: bool = False
    paragraph_indent: bool = False  # an indented first line and no gap between paragraphs

    def __post_init__(self) -> None:
        if self.columns not in (1, 2):
            raise ValueError("columns must be 1 or 2")
        if self.font not in FONTS:
            raise ValueError(f"unknown font {self.font!r}; fonts are {', '.join(FONTS)}")
        if not 6 <= self.body_size <= 14:
            raise ValueError("body_size must be between 6 and 14 points")


H = HeadingStyle
HOUSE_STYLES: Tuple[HouseStyle, ...] = (
    HouseStyle("bold-numbered", H("bold", "1", 1.2), H("bold", "1.1"), font="Helvetica"),
    HouseStyle("larger-unnumbered", H("bold", "none", 1.3), H("bold", "none", 1.1), body_size=11),
    HouseStyle("ieee-conference", H("small_caps", "I.", centred=True), H("italic", "A."), columns=2,
               body_size=10, justified=True, paragraph_indent=True),
    HouseStyle("elsevier-article", H("bold", "1."), H("italic", "1.1"), columns=2, body_size=9,
               justified=True, paragraph_indent=True),
    HouseStyle("biorxiv-preprint", H("bold", "none"), H("bold", "none", space_above=0.5), body_size=11,
               font="Helvetica", leading=1.6, line_numbers=True),
    HouseStyle("centred-caps", H("caps", "none", centred=True), H("bold", "none"), body_size=10),
    HouseStyle("apa-centred-bold", H("bold", "none", centred=True), H("bold", "none"), body_size=11,
               paragraph_indent=True, leading=1.5),
    HouseStyle("run-in-bold", H("bold", "none", 1.15), H("bold", "none", run_in=True), body_size=10,
               justified=True),
    HouseStyle("run-in-italic", H("bold", "1."), H("italic", "none", run_in=True), columns=2, body_size=9,
               paragraph_indent=True),
    HouseStyle("caps-numbered-tight", H("bold_caps", "1.", space_above=0.3), H("bold", "1.1", space_above=0.3),
               columns=2, body_size=9, font="Helvetica", running_header=False),
    HouseStyle("lettered-italic", H("bold", "A."), H("italic", "none"), body_size=10, paragraph_indent=True),
    HouseStyle("plain-larger", H("regular", "none", 1.4), H("regular", "none", 1.2), body_size=10,
               justified=True),
)


def draw_style(seed: int) -> HouseStyle:
    """A house style of choices drawn from ``seed`` (the same seed, the same style)."""
    rng = numpy.random.default_rng(seed)

    def heading(top: bool) -> HeadingStyle:
        face = str(rng.choice(FACES))
        numbering = str(rng.choice(NUMBERINGS))
        ratio = float(rng.choice([1.0, 1.0, 1.1, 1.2, 1.3] if top else [1.0, 1.0, 1.0, 1.1]))
        if face in ("regular", "italic") and ratio == 1.0 and numbering == "none" and top:
            ratio = 1.2  # a top-level heading in the body's own face and size is not a heading style
        return HeadingStyle(face, numbering, ratio, centred=top and rng.random() < 0.25,
                            run_in=not top and rng.random() < 0.3,
                            space_above=float(rng.choice([0.3, 0.6, 1.0, 1.5])))

    return HouseStyle(
        f"drawn-{seed}", heading(True), heading(False),
        columns=int(rng.choice([1, 2])), body_size=float(rng.choice([9.0, 9.5, 10.0, 10.5, 11.0])),
        font=str(rng.choice(list(FONTS))), leading=float(rng.choice([1.15, 1.2, 1.3, 1.5, 2.0])),
        justified=bool(rng.random() < 0.5), running_header=bool(rng.random() < 0.7),
        line_numbers=bool(rng.random() < 0.25), paragraph_indent=bool(rng.random() < 0.5),
    )


def printable(text: str) -> str:
    """``text`` in the characters the standard PDF fonts hold (Windows-1252)."""
    out = []
    for ch in text:
        try:
            ch.encode("cp1252")
            out.append(ch)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode("cp1252")
            out.append(base)
        except UnicodeEncodeError:
            out.append("?")
    return " ".join("".join(out).split())


@dataclass
class TypesetPaper:
    """A paper to set: ``blocks`` are its body's headings (with levels) and paragraphs."""

    title: str
    abstract: str
    blocks: List[Block]
    gold: List[str] = field(default_factory=list)  # the headings as printed, filled by :func:`typeset`


def shorten(blocks: Sequence[Block], paragraphs_per_section: int = 2, max_words: int = 120) -> List[Block]:
    """Every heading, and the first ``paragraphs_per_section`` paragraphs under each cut after the
    sentence that reaches ``max_words`` words: a paper's headings in a few pages."""
    out: List[Block] = []
    kept = 0
    for block in blocks:
        if block.kind == "heading":
            out.append(block)
            kept = 0
        elif block.kind == "paragraph" and kept < paragraphs_per_section:
            out.append(Block("paragraph", _first_words(block.text, max_words)))
            kept += 1
    return out


def _first_words(text: str, max_words: int) -> str:
    words = text.split()
    if len(words) <= max_words:
        return text
    for i in range(max_words, min(len(words), 2 * max_words)):
        if re.search(r"[a-z)\]][.!?]$", words[i]):
            return " ".join(words[: i + 1])
    return " ".join(words[:max_words]) + "."


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += letters
            n -= value
    return out


def number_label(numbering: str, counters: Sequence[int]) -> str:
    """The number printed before a heading whose counters (one per level down to its own) are ``counters``."""
    own = counters[-1]
    if numbering == "none":
        return ""
    if numbering == "1":
        return str(own)
    if numbering == "1.":
        return f"{own}."
    if numbering == "1.1":
        return ".".join(str(c) for c in counters)
    if numbering == "I.":
        return f"{_roman(own)}."
    return f"{chr(ord('A') + (own - 1) % 26)}."


class _Pages:
    """The cursor of a typeset paper: page, column and height, and what each page prints around its text."""

    def __init__(self, canvas, style: HouseStyle, header: str) -> None:
        self.c = canvas
        self.style = style
        self.header = header
        self.margin = 64.0 if style.columns == 1 else 50.0
        self.gap = 18.0
        self.column_width = (PAGE_WIDTH - 2 * self.margin - (style.columns - 1) * self.gap) / style.columns
        self.page = 1
        self.column = 0
        self.top = PAGE_HEIGHT - 72
        self.y = self.top
        self.line_number = 0
        self._decorate()

    @property
    def pitch(self) -> float:
        return self.style.body_size * self.style.leading

    def x(self) -> float:
        return self.margin + self.column * (self.column_width + self.gap)

    def _decorate(self) -> None:
        if not self.style.running_header:
            return
        fonts = FONTS[self.style.font]
        self.c.setFont(fonts["italic"], 8)
        self.c.drawString(self.margin, PAGE_HEIGHT - 40, self.header)
        self.c.setFont(fonts["regular"], 8)
        self.c.drawCentredString(PAGE_WIDTH / 2, 36, str(self.page))

    def need(self, height: float) -> None:
        """Go to the next column (or page) unless ``height`` fits above the bottom margin."""
        if self.y - height >= 64:
            return
        if self.column + 1 < self.style.columns:
            self.column += 1
        else:
            self.c.showPage()
            self.page += 1
            self.column = 0
            self.top = PAGE_HEIGHT - 72
            self._decorate()
        self.y = self.top

    def line(self, runs: Sequence[Tuple[str, str, float]], *, indent: float = 0.0, centred: bool = False,
             justify: bool = False, pitch: Optional[float] = None, numbered: bool = True) -> None:
        """One printed line of runs (text, font, size)."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        pitch = pitch or self.pitch
        self.need(pitch)
        self.y -= pitch
        width = sum(stringWidth(text, font, size) for text, font, size in runs)
        x = self.x() + indent
        if centred:
            x = self.x() + (self.column_width - width) / 2
        spaces = sum(text.count(" ") for text, _, _ in runs)
        word_space = (self.column_width - indent - width) / spaces if justify and spaces else 0.0
        if self.style.line_numbers and numbered:
            self.line_number += 1
            self.c.setFont(FONTS[self.style.font]["regular"], 7)
            self.c.drawRightString(self.x() - 8, self.y, str(self.line_number))
        text_object = self.c.beginText(x, self.y)
        text_object.setWordSpace(max(0.0, min(word_space, self.style.body_size)))
        for text, font, size in runs:
            text_object.setFont(font, size)
            text_object.textOut(text)
        self.c.drawText(text_object)


# A word is a list of parts (text, font, size): one part, or several for a word in small capitals.
Part = Tuple[str, str, float]
Word = List[Part]


def _word_width(word: Word) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return sum(stringWidth(text, font, size) for text, font, size in word)


def _wrap_words(words: List[Word], width: float, first_width: float) -> List[List[Word]]:
    """Words into lines of at most ``width`` points (the first line ``first_width``)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: List[List[Word]] = []
    current: List[Word] = []
    used = 0.0
    limit = first_width
    for word in words:
        w = _word_width(word)
        space = stringWidth(" ", word[0][1], word[0][2]) if current else 0.0
        if current and used + space + w > limit:
            lines.append(current)
            current, used, limit, space = [], 0.0, width, 0.0
        current.append(word)
        used += space + w
    if current:
        lines.append(current)
    return lines


def _runs(words: List[Word]) -> List[Part]:
    """A line's words as runs of one font and size, with the spaces between words inside the runs."""
    runs: List[List] = []
    for i, word in enumerate(words):
        for j, (text, font, size) in enumerate(word):
            if i and j == 0:
                text = " " + text
            if runs and runs[-1][1] == font and runs[-1][2] == size:
                runs[-1][0] += text
            else:
                runs.append([text, font, size])
    return [(text, font, size) for text, font, size in runs]


def heading_words(text: str, style: HeadingStyle, font: str, body_size: float) -> List[Word]:
    """A heading's words in its face: small capitals as capitals, the lower-case letters' smaller."""
    fonts = FONTS[font]
    size = body_size * style.size_ratio
    face = {"small_caps": "regular", "caps": "regular", "bold_caps": "bold"}.get(style.face, style.face)
    if style.face in ("caps", "bold_caps"):
        text = text.upper()
    words: List[Word] = []
    for word in text.split():
        if style.face != "small_caps":
            words.append([(word, fonts[face], size)])
            continue
        parts: List[List] = []
        for ch in word:
            part_size = round(size * SMALL_CAPS_RATIO, 2) if ch.islower() else size
            if parts and parts[-1][2] == part_size:
                parts[-1][0] += ch.upper()
            else:
                parts.append([ch.upper(), fonts[face], part_size])
        words.append([(t, f, s) for t, f, s in parts])
    return words


def typeset(paper: TypesetPaper, style: HouseStyle) -> bytes:
    """``paper`` as PDF bytes in ``style``; fills ``paper.gold`` with the headings as printed."""
    from reportlab.pdfgen import canvas as rl_canvas

    buffer = io.BytesIO()
    c = rl_canvas.Canvas(buffer, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=1)
    fonts = FONTS[style.font]
    title = printable(paper.title) or "Untitled"
    pages = _Pages(c, style, printable(f"Journal of Typeset Papers - {title}")[:90])
    body = style.body_size
    # the front matter across the page: title, authors, affiliation, abstract
    columns, pages.column_width = style.columns, PAGE_WIDTH - 2 * pages.margin
    pages.style = _one_column(style)
    for words in _wrap_words([[(w, fonts["bold"], 1.6 * body)] for w in title.split()],
                             pages.column_width, pages.column_width):
        pages.line(_runs(words), centred=True, pitch=1.9 * body, numbered=False)
    pages.line([("Ada Tester, Bob Example and Chen Sample", fonts["regular"], body)], centred=True,
               pitch=2.2 * body, numbered=False)
    pages.line([("Department of Examples, University of Nowhere", fonts["italic"], 0.9 * body)], centred=True,
               numbered=False)
    abstract = printable(paper.abstract)
    if abstract:
        pages.y -= pages.pitch
        pages.line(_runs(heading_words("Abstract", _plain(style.heading), style.font, body)), numbered=False)
        _paragraph(pages, abstract, style, fonts, first=True)
    pages.style = style
    pages.column_width = (PAGE_WIDTH - 2 * pages.margin - (columns - 1) * pages.gap) / columns
    pages.y -= pages.pitch
    pages.top = pages.y
    counters: List[int] = []
    gold: List[str] = []
    pending_run_in = None
    first_paragraph = True
    for block in paper.blocks:
        if block.kind == "heading":
            if pending_run_in is not None:  # a run-in heading with no paragraph under it stands alone
                _heading_line(pages, pending_run_in, style)
                pending_run_in = None
            level = max(1, int(block.level))
            counters = (counters + [0] * level)[:level]
            counters[-1] += 1
            h_style = style.heading if level == 1 else style.sub_heading
            text = printable(block.text)
            if not text:
                continue
            gold.append(text)
            label = number_label(h_style.numbering, counters)
            printed = f"{label} {text}" if label else text
            if h_style.run_in:
                pending_run_in = (printed if printed.endswith((".", "?", "!")) else printed + ".", h_style)
            else:
                _heading_line(pages, (printed, h_style), style)
            first_paragraph = True
        elif block.kind == "paragraph":
            text = printable(block.text)
            if not text:
                continue
            _paragraph(pages, text, style, fonts, first=first_paragraph, run_in=pending_run_in)
            pending_run_in = None
            first_paragraph = False
    if pending_run_in is not None:
        _heading_line(pages, pending_run_in, style)
    c.showPage()
    c.save()
    paper.gold = gold
    return buffer.getvalue()


def _one_column(style: HouseStyle) -> HouseStyle:
    return replace(style, columns=1)


def _plain(style: HeadingStyle) -> HeadingStyle:
    """The "Abstract" heading: in the headings' face, not numbered, not run in."""
    return replace(style, numbering="none", run_in=False)


def _heading_line(pages: _Pages, heading, style: HouseStyle) -> None:
    text, h_style = heading
    words = heading_words(text, h_style, style.font, style.body_size)
    size = style.body_size * h_style.size_ratio
    pages.y -= h_style.space_above * pages.pitch
    lines = _wrap_words(words, pages.column_width, pages.column_width)
    pages.need(len(lines) * size * 1.25 + 3 * pages.pitch)  # a heading is not left alone at a column's foot
    for line_words in lines:
        pages.line(_runs(line_words), centred=h_style.centred, pitch=max(pages.pitch, size * 1.25))


def _paragraph(pages: _Pages, text: str, style: HouseStyle, fonts, *, first: bool, run_in=None) -> None:
    body = style.body_size
    indent = 1.5 * body if style.paragraph_indent and not first and run_in is None else 0.0
    if not style.paragraph_indent or first:
        pages.y -= 0.5 * pages.pitch
    words: List[Word] = []
    if run_in is not None:
        heading, h_style = run_in
        words.extend(heading_words(heading, h_style, style.font, body))
        pages.y -= max(0.0, h_style.space_above - 0.5) * pages.pitch
    words.extend([(w, fonts["regular"], body)] for w in text.split())
    lines = _wrap_words(words, pages.column_width, pages.column_width - indent)
    for i, line_words in enumerate(lines):
        last = i == len(lines) - 1
        pages.line(_runs(line_words), indent=indent if i == 0 else 0.0, justify=style.justified and not last)
