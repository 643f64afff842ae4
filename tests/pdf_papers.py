"""Small PDF papers that the tests make themselves (reportlab), and bad PDFs written byte by byte.

:func:`write_paper` lays out a paper the way journals do: the title in large
type on page 1, authors, an "Abstract" heading, headings in bold (numbered
"1 Introduction" or unnumbered "Methods"), one or two columns of 10-point
text, a running header and a page number on every page, a figure caption in
small type, and one word broken over two lines with a hyphen; or with its
headings set in another style (``headings``: small capitals, centred,
italic, run in).
"""
import zlib
from pathlib import Path
from typing import List, Sequence, Tuple

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

TITLE = "Soil Moisture Memory in Test Documents"
HEADER = "Journal of Made-up Results, Volume 3"
BROKEN_WORD = ("hyphen", "ated")  # printed as "hyphen-" at a line's end, "ated" on the next
CAPTION = "Figure 1. Soil moisture anomalies in the made-up region over ten summers."
ABSTRACT = ("We study how long soil moisture anomalies persist in a made-up region. The anomalies last "
            "for weeks. This abstract is long enough to read as one.")
SECTIONS = [
    ("Introduction", "Drought begins when rain fails and the soil dries out over many weeks. " * 40),
    ("Methods", "We measured the moisture of the soil at twelve sites every day for ten summers. " * 40),
    ("Results", "Anomalies persisted for three weeks on average and longer in the dry years. " * 40),
    ("Discussion", "Memory of the soil matters for the forecast of drought in the coming season. " * 40),
]


def _wrap(text: str, width: float, size: float, font: str = "Helvetica") -> List[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if stringWidth(candidate, font, size) <= width:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


HEADING_STYLES = ("bold", "small_caps", "centred", "italic", "run_in")
ROMAN = ("I", "II", "III", "IV")


def printed_heading(number: int, heading: str, style: str = "bold", numbered: bool = True) -> str:
    """A section's heading as the reader should give it back in ``style`` (see :func:`write_paper`)."""
    if style == "small_caps":
        return f"{ROMAN[number - 1]}. {heading.upper()}" if numbered else heading.upper()
    return f"{number} {heading}" if numbered else heading


def write_paper(path: Path, *, columns: int = 1, numbered: bool = True, pages_of_filler: int = 0,
                line_numbers: bool = False, author_lines: Sequence[str] = (), headings: str = "bold") -> Path:
    """A paper of two or more pages (``line_numbers``: a review copy's numbers beside every line;
    ``author_lines``: one line per author in the headings' bold type above the abstract, each with
    its affiliation numbers, as some journals print them); returns ``path``.

    ``headings``: how the section headings are set: ``bold`` (12 points, bold), ``small_caps``
    (IEEE's: capitals in the body's size with the other letters as smaller capitals, roman numbers,
    centred), ``centred`` (bold, centred in the column), ``italic`` (the body's size, italic), or
    ``run_in`` (bold, at the start of the section's first line, ending in a full stop: "Methods. We
    measured ...")."""
    if headings not in HEADING_STYLES:
        raise ValueError(f"unknown heading style {headings!r}")
    page_width, page_height = A4
    margin = 60.0
    gap = 20.0
    column_width = (page_width - 2 * margin - (columns - 1) * gap) / columns
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    state = {"page": 1, "column": 0, "y": 0.0, "line": 0}

    def start_page() -> None:
        c.setFont("Helvetica", 8)
        c.drawString(margin, page_height - 30, HEADER)
        c.drawCentredString(page_width / 2, 30, str(state["page"]))
        state["column"] = 0
        state["y"] = page_height - 70

    def new_column() -> None:
        if state["column"] + 1 < columns:
            state["column"] += 1
            state["y"] = state["top"]
        else:
            c.showPage()
            state["page"] += 1
            start_page()
            state["top"] = state["y"]

    def x() -> float:
        return margin + state["column"] * (column_width + gap)

    def draw(lines: Sequence, font: str, size: float, before: float = 0.0, centred: bool = False) -> None:
        """Lines of one font, or of runs (a list of (text, font, size) per line)."""
        state["y"] -= before
        for line in lines:
            if state["y"] < 60:
                new_column()
            if line_numbers:
                state["line"] += 1
                c.setFont("Helvetica", 7)
                c.drawRightString(x() - 6, state["y"], str(state["line"]))
            runs = [(line, font, size)] if isinstance(line, str) else line
            width = sum(stringWidth(text, f, s) for text, f, s in runs)
            text_object = c.beginText(x() + ((column_width - width) / 2 if centred else 0.0), state["y"])
            for text, f, s in runs:
                text_object.setFont(f, s)
                text_object.textOut(text)
            c.drawText(text_object)
            state["y"] -= size * 1.25

    start_page()
    c.setFont("Helvetica-Bold", 18)
    c.drawString(margin, state["y"] - 10, TITLE)
    c.setFont("Helvetica", 10)
    c.drawString(margin, state["y"] - 34, "Ada Tester and Bob Example, University of Nowhere")
    state["y"] -= 70
    state["top"] = state["y"]
    for author in author_lines:
        draw([author], "Helvetica-Bold", 12, before=4)
    draw(["Abstract"], "Helvetica-Bold", 12, before=12 if author_lines else 0.0)
    draw(_wrap(ABSTRACT, column_width, 10), "Helvetica", 10, before=4)
    for number, (heading, text) in enumerate(SECTIONS, 1):
        title = f"{number} {heading}" if numbered else heading
        if headings == "run_in":
            state["y"] -= 8
            lead = f"{title}. "
            first_width = column_width - stringWidth(lead, "Helvetica-Bold", 10)
            first = _wrap(text, first_width, 10)[0]
            draw([[(lead, "Helvetica-Bold", 10), (first, "Helvetica", 10)]], "Helvetica", 10, before=4)
            text = text[len(first):].strip()
        elif headings == "small_caps":
            runs = [(ch, "Times-Roman", 10 if ch.isupper() or not ch.isalpha() else 8) for ch in
                    (f"{ROMAN[number - 1]}. {heading}" if numbered else heading)]
            draw([[(text_.upper(), font, size) for text_, font, size in runs]], "Times-Roman", 10, before=14,
                 centred=True)
        elif headings == "italic":
            draw([title], "Helvetica-Oblique", 10, before=12)
        else:
            draw([title], "Helvetica-Bold", 12, before=12, centred=headings == "centred")
        lines = _wrap(text, column_width, 10)
        if number == 1 and headings != "run_in":
            # one word broken at the end of the second line (not after a run-in heading: the lengthened
            # line could run over a narrow column)
            words = lines[1].split()
            lines[1] = " ".join(words[:-1] + [f"{BROKEN_WORD[0]}-"])
            lines[2] = f"{BROKEN_WORD[1]} {words[-1]} " + lines[2]
        draw(lines, "Helvetica", 10, before=4)
        if number == 2:
            draw(_wrap(CAPTION, column_width, 8), "Helvetica", 8, before=10)
            state["y"] -= 10
    for _ in range(pages_of_filler):
        draw(_wrap(SECTIONS[3][1] * 6, column_width, 10), "Helvetica", 10, before=10)
    c.showPage()
    c.save()
    return path


def write_blank_pages(path: Path, pages: int) -> Path:
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for _ in range(pages):
        c.setFont("Helvetica", 10)
        c.drawString(72, 700, "x")
        c.showPage()
    c.save()
    return path


def write_scanned(path: Path) -> Path:
    """A page with only a picture of text (grey bars where lines of print would be): no text layer."""
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for i in range(30):
        c.setFillGray(0.2)
        c.rect(72, 750 - i * 14, 400, 8, stroke=0, fill=1)
    c.showPage()
    c.save()
    return path


def write_encrypted(path: Path) -> Path:
    from reportlab.lib import pdfencrypt

    encrypt = pdfencrypt.StandardEncryption("secret", ownerPassword="owner", canPrint=0)
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=encrypt)
    c.drawString(72, 700, "A secret paper.")
    c.showPage()
    c.save()
    return path


def raw_pdf(content: bytes, compressed: bool = True) -> bytes:
    """A one-page PDF written by hand around a content stream (for the decompression bomb)."""
    stream = content
    filter_entry = b" /Filter /FlateDecode" if compressed else b""
    objects: List[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d%s >>\nstream\n" % (len(stream), filter_entry) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def bomb_stream(inflated_bytes: int) -> bytes:
    """Deflated spaces that inflate to ``inflated_bytes`` (made in pieces: little memory)."""
    deflater = zlib.compressobj(9)
    piece = b" " * (1 << 20)
    parts = []
    left = inflated_bytes
    while left > 0:
        chunk = piece if left >= len(piece) else piece[:left]
        parts.append(deflater.compress(chunk))
        left -= len(chunk)
    parts.append(deflater.flush())
    return b"".join(parts)


def text_stream(lines: Sequence[Tuple[float, float, str]]) -> bytes:
    ops = [b"BT /F1 10 Tf"]
    for x, y, text in lines:
        ops.append(b"1 0 0 1 %.1f %.1f Tm (%s) Tj" % (x, y, text.encode("latin-1")))
    ops.append(b"ET")
    return b"\n".join(ops)
