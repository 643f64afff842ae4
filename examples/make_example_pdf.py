"""Write an example paper as a PDF, the way a journal prints it, from its Markdown source.

    python examples/make_example_pdf.py [SOURCE.md] [OUT.pdf]

By default ``examples/papers/span_language_models.md`` becomes
``examples/papers/span_language_models.pdf``: the title in large type, a
running header and a page number, the abstract, bold numbered headings and
justified 10-point text in two columns. The demo and ``scicls annotate
examples/papers`` read it with the PDF reader. Needs reportlab (in the
``dev`` extra); the output is the same bytes on every run.
"""
import sys
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from spacy_scicls.readers._build import Paper
from spacy_scicls.readers.markdown import read_markdown

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "papers" / "span_language_models.md"
HEADER = "Example Proceedings of Scientific Text Processing"
BODY, FONT, BOLD = 10.0, "Times-Roman", "Times-Bold"


def wrap(text: str, width: float, size: float = BODY, font: str = FONT):
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if stringWidth(candidate, font, size) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def justified(c, x: float, y: float, line: str, width: float) -> None:
    words = line.split()
    if len(words) < 2:
        c.drawString(x, y, line)
        return
    spare = (width - stringWidth(line.replace(" ", ""), FONT, BODY)) / (len(words) - 1)
    for word in words:
        c.drawString(x, y, word)
        x += stringWidth(word, FONT, BODY) + spare


def write(source: Path, out: Path) -> Path:
    paper = read_markdown(source.read_text(encoding="utf8"), Paper(format="markdown"))
    width, height = A4
    margin, gap = 56.0, 18.0
    column = (width - 2 * margin - gap) / 2
    c = canvas.Canvas(str(out), pagesize=A4, invariant=1)
    c.setTitle(paper.title or "")
    state = {"page": 0, "col": 0, "y": 0.0, "top": 0.0}

    def new_page() -> None:
        if state["page"]:
            c.showPage()
        state["page"] += 1
        c.setFont(FONT, 8)
        c.drawString(margin, height - 36, HEADER)
        c.drawCentredString(width / 2, 36, str(state["page"]))
        state["col"], state["y"], state["top"] = 0, height - 80, height - 80

    def line_at(draw) -> None:
        if state["y"] < 70:
            if state["col"] == 0:
                state["col"], state["y"] = 1, state["top"]
            else:
                new_page()
        draw(margin + state["col"] * (column + gap), state["y"])

    new_page()
    c.setFont(BOLD, 17)
    for title_line in wrap(paper.title or "", width - 2 * margin, 17, BOLD):
        c.drawCentredString(width / 2, state["y"], title_line)
        state["y"] -= 21
    state["y"] -= 20
    state["top"] = state["y"]
    blocks = [("Abstract", paper.abstract)] + [(s.heading, s.paragraphs) for s in paper.sections]
    for heading, paragraphs in blocks:
        if heading:
            state["y"] -= 8
            line_at(lambda x, y: (c.setFont(BOLD, 12), c.drawString(x, y, heading)))
            state["y"] -= 17
        for paragraph in paragraphs:
            lines = wrap(paragraph, column)
            for i, text in enumerate(lines):
                last = i == len(lines) - 1
                line_at(lambda x, y: (c.setFont(FONT, BODY),
                                      c.drawString(x, y, text) if last else justified(c, x, y, text, column)))
                state["y"] -= 12.5
            state["y"] -= 4
    c.showPage()
    c.save()
    return out


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else SOURCE
    out = Path(args[1]) if len(args) > 1 else source.with_suffix(".pdf")
    print(f"wrote {write(source, out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
