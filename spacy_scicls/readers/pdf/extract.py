"""A PDF's printed lines, page by page, with their type and position (pypdfium2).

Each page's characters are read once through PDFium's text page API (the
character, its box, font size, weight and font name) and grouped into
:class:`Line` s: a run of characters on one baseline with no gap wider than
1.5 times the font size (so two columns, or a line number and its line, are
two lines even where PDFium's character order runs them together). The page
is closed before the next one is opened: what stays in memory is the lines'
text and a few numbers per line, never a page's objects.

Every bound of :class:`Limits` is checked here, so that no file can hold the
reader longer or make it hold more than the limits allow (see docs/pdf.md).
"""
import ctypes
import math
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Iterator, List, Optional

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c


_SURROGATE = re.compile("[\ud800-\udfff]")


def _join_surrogates(text: str) -> str:
    """A character outside the BMP takes two indices (a UTF-16 pair): the pair becomes the
    character at the first index and nothing at the second; a lone half becomes U+FFFD."""
    out = list(text)
    i = 0
    while i < len(out):
        ch = out[i]
        if "\ud800" <= ch <= "\udbff" and i + 1 < len(out) and "\udc00" <= out[i + 1] <= "\udfff":
            out[i] = chr(0x10000 + ((ord(ch) - 0xD800) << 10) + (ord(out[i + 1]) - 0xDC00))
            out[i + 1] = "\uffff"
            i += 2
            continue
        if "\ud800" <= ch <= "\udfff":
            out[i] = "\ufffd"
        i += 1
    return "".join(out)


# TeX sets an accent as a character of its own before the letter ("Lema\u02c6\u0131tre"):
# such pairs are composed into one letter ("Lema\u00eetre")
_ACCENTS = {"\u02c6": "\u0302", "^": "\u0302", "\u00b4": "\u0301", "`": "\u0300", "\u00a8": "\u0308",
            "\u02dc": "\u0303", "~": "\u0303", "\u02c7": "\u030c", "\u00b8": "\u0327", "\u02da": "\u030a"}
_SPACING_ACCENT = re.compile("([\u02c6\u00b4`\u00a8\u02dc\u02c7\u00b8\u02da])\\s?([A-Za-z\u0131])")


def _compose_accents(text: str) -> str:
    def compose(match) -> str:
        letter = "i" if match.group(2) == "\u0131" else match.group(2)
        return unicodedata.normalize("NFC", letter + _ACCENTS[match.group(1)])

    return _SPACING_ACCENT.sub(compose, text)


class PdfError(ValueError):
    """A PDF that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class Limits:
    """Bounds on the work and memory spent on one PDF.

    ``max_pages``: a longer PDF is refused (a paper with its appendices is
    rarely over a few hundred pages); ``max_chars``: the text kept, over all
    pages; ``max_page_chars``: the characters of one page (a normal page has
    a few thousand); ``time_budget``: seconds of extraction, checked between
    pages and every few hundred characters; ``max_stream_bytes``: how far one
    compressed stream may expand, checked before PDFium parses the file (a
    decompression bomb is refused, see :mod:`.guard`).
    """

    max_pages: int = 1000
    max_chars: int = 2_000_000
    max_page_chars: int = 200_000
    time_budget: float = 600.0
    max_stream_bytes: int = 256 * 1024 * 1024


@dataclass(slots=True)
class Line:
    """One printed line (or a part of one set apart by a wide gap), in points from the page's top left."""

    text: str
    page: int
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # the font size of most of its characters
    bold: float  # share of its letters in a bold face
    italic: float  # share of its letters in an italic face
    small_caps: bool
    font: str  # the font name of most of its characters
    page_width: float
    page_height: float
    # set by the layout pass
    column: int = 0
    role: str = "body"
    shared_baseline: bool = False  # another line of its column sits on its baseline (a table's row)
    # the start of the line set in bold (or italic), all of it if the whole line is: a run-in heading's
    # place ("Participants. We recruited ..."); "" when the line starts in another face
    lead: str = ""
    lead_face: str = ""

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.bottom - self.top


_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|medi\b|-medi|cmbx|cmb\d|bx\d|\.b$|,b$", re.I)
_ITALIC_NAME = re.compile(r"italic|oblique|cmti|cmsl|-it\b|ital", re.I)
_SMALL_CAPS_NAME = re.compile(r"smallcaps|cmcsc|csc\d|-sc\b|\bsc\b|caps", re.I)
_FORCE_BOLD = 0x40000  # font descriptor flag
_LETTER = re.compile(r"[^\W\d_]")


def open_pdf(data: bytes, name: str) -> "pdfium.PdfDocument":
    """The document, or :class:`PdfError` naming what is wrong (encrypted, corrupt, truncated)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        message = str(err)
        low = message.lower()
        if "password" in low:
            raise PdfError("encrypted PDF: it needs a password to open") from None
        if "format" in low or "file" in low:
            raise PdfError(f"corrupt or truncated PDF (PDFium: {message})") from None
        if "security" in low:
            raise PdfError(f"encrypted PDF with an unsupported security handler (PDFium: {message})") from None
        raise PdfError(f"cannot open the PDF (PDFium: {message})") from None


class _Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.time_budget
        self.chars = 0

    def check_time(self, page: int) -> None:
        if time.monotonic() > self.deadline:
            raise PdfError(f"took longer than the time budget of {self.limits.time_budget:g} s (stopped at page {page + 1})")

    def add_chars(self, n: int, page: int) -> None:
        self.chars += n
        if self.chars > self.limits.max_chars:
            raise PdfError(f"more than {self.limits.max_chars:,} characters of text (at page {page + 1}); "
                           "raise the character limit to read it")


def iter_page_lines(pdf: "pdfium.PdfDocument", limits: Limits) -> Iterator[List[Line]]:
    """Each page's lines in PDFium's character order; one page is open at a time."""
    n_pages = len(pdf)
    if n_pages == 0:
        raise PdfError("has no pages")
    if n_pages > limits.max_pages:
        raise PdfError(f"has {n_pages:,} pages, more than the limit of {limits.max_pages:,}")
    budget = _Budget(limits)
    for number in range(n_pages):
        budget.check_time(number)
        try:
            page = pdf[number]
        except pdfium.PdfiumError as err:
            raise PdfError(f"page {number + 1} cannot be read (PDFium: {err})") from None
        try:
            try:
                textpage = page.get_textpage()
            except pdfium.PdfiumError as err:
                raise PdfError(f"the text of page {number + 1} cannot be read (PDFium: {err})") from None
            try:
                yield _page_lines(page, textpage, number, limits, budget)
            finally:
                textpage.close()
        finally:
            page.close()


# FPDFText_GetTextObject with a plain address as its result: the characters of one
# text object share their font and size, so those are asked once per object.
_TEXT_OBJECT = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)(
    ctypes.cast(pdfium_c.FPDFText_GetTextObject, ctypes.c_void_p).value
)


def _page_lines(page, textpage, number: int, limits: Limits, budget: _Budget) -> List[Line]:
    width, height = page.get_size()
    handle = textpage.raw
    address = ctypes.cast(handle, ctypes.c_void_p)
    count = pdfium_c.FPDFText_CountChars(handle)
    if count > limits.max_page_chars:
        raise PdfError(f"page {number + 1} has {count:,} characters, more than the limit of {limits.max_page_chars:,}")
    # one call for the characters (one UTF-16 unit per character index)
    text = textpage.get_text_range(0, count) if count else ""
    if len(text) != count:
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(handle, i) or 0xFFFF) for i in range(count))
    if _SURROGATE.search(text):
        text = _join_surrogates(text)
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    name_buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    matrix = pdfium_c.FS_MATRIX()
    styles = {}  # text object -> (size, bold, italic, small caps, font)
    font_cache = {}
    lines: List[Line] = []
    chars: list = []  # (char, x0, x1, top, bottom, size, bold, italic, small_caps, font)
    get_box = pdfium_c.FPDFText_GetCharBox

    def flush() -> None:
        if chars:
            line = _make_line(chars, number, width, height)
            if line is not None:
                lines.append(line)
            chars.clear()

    for i, char in enumerate(text):
        if i % 512 == 0 and i:
            budget.check_time(number)
        if char.isspace():
            # PDFium's own line breaks are left aside (they split a line at every
            # superscript); the geometry below decides where a line ends
            if chars and chars[-1][0] != " ":
                chars.append((" ",) + chars[-1][1:])
            continue
        if char in "\ufffe\x02":
            char = "\u00ad"  # a hyphen that PDFium marks as the break of a word at the line's end
        elif char in "\x00\uffff":
            continue
        if not get_box(handle, i, left, right, bottom, top):
            continue
        obj = _TEXT_OBJECT(address, i)
        style = styles.get(obj, False)
        if style is False:
            # the size as printed: the font's size times the text matrix's scale
            pdfium_c.FPDFText_GetMatrix(handle, i, matrix)
            scale = math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c)) or 1.0
            rotated = abs(matrix.b) > 0.1 * abs(matrix.a) or abs(matrix.c) > 0.1 * abs(matrix.d)
            size = float(pdfium_c.FPDFText_GetFontSize(handle, i)) * scale
            weight = pdfium_c.FPDFText_GetFontWeight(handle, i)
            pdfium_c.FPDFText_GetFontInfo(handle, i, name_buffer, len(name_buffer), flags)
            font = name_buffer.value.decode("latin-1")
            key = (font, flags.value, weight)
            face = font_cache.get(key)
            if face is None:
                base = font.split("+", 1)[-1]
                face = font_cache[key] = (
                    weight >= 600 or bool(flags.value & _FORCE_BOLD) or bool(_BOLD_NAME.search(base)),
                    bool(_ITALIC_NAME.search(base)),
                    bool(_SMALL_CAPS_NAME.search(base)),
                    base,
                )
            style = styles[obj] = None if rotated else (size,) + face
        if style is None:
            continue  # turned text (a stamp in the margin, a rotated table) is no running text
        x0, x1, y_top, y_bottom = left.value, right.value, height - top.value, height - bottom.value
        if chars:
            prev = chars[-1]
            ref = max(style[0], prev[5], 1.0)
            # a new line: no vertical overlap with the last character (another baseline),
            # a step back, or a gap wider than 1.5 em (another column, a line number)
            overlap = min(y_bottom, prev[4]) - max(y_top, prev[3])
            gap = x0 - prev[2]
            if overlap < -0.1 * ref or x0 < prev[1] - 0.5 * ref or gap > 1.5 * ref:
                flush()
            elif gap > 0.2 * ref and abs(style[0] - prev[5]) > 0.1 * ref and _all_digits(chars):
                flush()  # a line number in smaller type just before its line
        chars.append((char, x0, x1, y_top, y_bottom) + style)
    flush()
    budget.add_chars(sum(len(line.text) for line in lines), number)
    return lines


def _all_digits(chars: list) -> bool:
    return all(c[0].isdigit() or c[0] == " " for c in chars)


def _faked_small_caps(letters: list) -> float:
    """The size of the capitals of a line set in faked small capitals (every letter a capital, the
    first ones of words larger than the rest, which are 0.6 to 0.9 of their size), else 0."""
    if len(letters) < 3 or not all(c[0].isupper() for c in letters if c[0].isalpha()):
        return 0.0
    sizes = sorted({round(c[5] * 2) / 2 for c in letters})
    if len(sizes) != 2 or not 0.6 * sizes[1] <= sizes[0] <= 0.9 * sizes[1]:
        return 0.0
    return sizes[1]


def _lead(chars: list, text: str):
    """(the line's start in bold or italic, that face) when the line starts in bold or italic: the whole
    line when all of it is in that face; ("", "") when it starts in the body's face."""
    first = next((c for c in chars if _LETTER.match(c[0])), None)
    if first is None:
        return "", ""
    face = 6 if first[6] else 7 if first[7] else 0
    if not face:
        return "", ""
    end = next((i for i, c in enumerate(chars) if _LETTER.match(c[0]) and not c[face]), None)
    if end is None:  # the whole line in that face: a run-in heading may go on to the next line
        return text, "bold" if face == 6 else "italic"
    lead = "".join(c[0] for c in chars[:end]).strip()
    if sum(1 for ch in lead if ch.isalpha()) < 2 or not text.startswith(lead):
        return "", ""
    return lead, "bold" if face == 6 else "italic"


def _make_line(chars: list, page: int, width: float, height: float) -> Optional[Line]:
    while chars and chars[-1][0] == " ":
        chars.pop()
    text = "".join(c[0] for c in chars).strip()
    if "\u00ad" in text[:-1]:  # a soft hyphen inside the line is no break
        text = text[:-1].replace("\u00ad", "") + text[-1]
    if _SPACING_ACCENT.search(text):
        text = _compose_accents(text)
    if not text:
        return None
    ink = [c for c in chars if c[0] != " "]
    sizes = sorted(round(c[5] * 2) / 2 for c in ink)
    size = sizes[len(sizes) // 2]
    letters = [c for c in ink if _LETTER.match(c[0])] or ink
    bold = sum(1 for c in letters if c[6]) / len(letters)
    italic = sum(1 for c in letters if c[7]) / len(letters)
    small_caps = sum(1 for c in letters if c[8]) > len(letters) / 2
    faked = _faked_small_caps(letters)
    if faked:
        # capitals in two sizes: small capitals made by scaling (TeX's Times, word processors); the
        # line's type is that of its capitals, not of the smaller ones that are most of its letters
        size, small_caps = faked, True
    fonts: dict = {}
    for c in ink:
        fonts[c[9]] = fonts.get(c[9], 0) + 1
    font = max(fonts, key=fonts.get)
    # the line's box from its characters of the line's own size (super- and subscripts left out)
    body = [c for c in ink if c[5] >= 0.8 * size] or ink
    lead, lead_face = _lead(chars, text)
    return Line(
        lead=lead,
        lead_face=lead_face,
        text=text,
        page=page,
        x0=min(c[1] for c in ink),
        x1=max(c[2] for c in ink),
        top=min(c[3] for c in body),
        bottom=max(c[4] for c in body),
        size=size,
        bold=bold,
        italic=italic,
        small_caps=small_caps,
        font=font,
        page_width=width,
        page_height=height,
    )
