"""Which PDF library: pypdfium2 (the reader's extraction) against pdfplumber/pdfminer.six, on real PDFs.

    python benchmarks/pdf_libraries.py --data-dir $SCICLS_DATA_DIR [--runs 3]

For each PDF of the evaluation (scripts/evaluate_pdf_sections.py's papers),
in turns (pypdfium2, pdfplumber, pypdfium2, ...): the time to get every
character with its font name and size (pypdfium2: the reader's
``iter_page_lines``, which also groups them into lines; pdfplumber:
``page.chars`` of every page), and the share of the gold section titles
that come out as a line of their own, whole and spelt right (after the
evaluation's normalisation): pypdfium2's lines after ``merge_fragments``,
pdfplumber's ``extract_text_lines``.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))


def pdfium_lines(path: Path):
    from spacy_scicls.readers.pdf.extract import Limits, iter_page_lines, open_pdf
    from spacy_scicls.readers.pdf.layout import merge_fragments

    pdf = open_pdf(path.read_bytes(), str(path))
    try:
        return [line.text for lines in iter_page_lines(pdf, Limits()) for line in merge_fragments(lines)]
    finally:
        pdf.close()


def plumber_chars(path: Path):
    import pdfplumber

    n = 0
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            n += sum(1 for ch in page.chars if ch["fontname"] and ch["size"])
            page.close()
    return n


def plumber_lines(path: Path):
    import pdfplumber

    out = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            out.extend(line["text"] for line in page.extract_text_lines())
            page.close()
    return out


def main(argv=None) -> int:
    from evaluate_pdf_sections import normalise_title, papers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("SCICLS_DATA_DIR"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    items = papers(Path(args.data_dir))
    times = {"pypdfium2": [], "pdfplumber": []}
    found = {"pypdfium2": 0, "pdfplumber": 0}
    gold_total = 0
    pages = 0
    import pypdfium2

    for item in items:
        pages += len(pypdfium2.PdfDocument(str(item["pdf"])))
        per = {"pypdfium2": [], "pdfplumber": []}
        for _ in range(args.runs):
            t = time.perf_counter()
            pdfium_lines(item["pdf"])
            per["pypdfium2"].append(time.perf_counter() - t)
            t = time.perf_counter()
            plumber_chars(item["pdf"])
            per["pdfplumber"].append(time.perf_counter() - t)
        for lib in per:
            times[lib].append(statistics.median(per[lib]))
        gold = [normalise_title(t) for t in item["gold"]]
        gold_total += len(gold)
        for lib, lines in (("pypdfium2", pdfium_lines(item["pdf"])), ("pdfplumber", plumber_lines(item["pdf"]))):
            have = {normalise_title(line) for line in lines}
            found[lib] += sum(1 for g in gold if g in have)
    print(f"{len(items)} PDFs, {pages} pages; median of {args.runs} runs per PDF, summed\n")
    print("| library | s (all PDFs) | pages/s | gold titles whole on one line |")
    print("|---|---:|---:|---:|")
    for lib in times:
        total = sum(times[lib])
        print(f"| {lib} | {total:.2f} | {pages / total:.1f} | {found[lib]}/{gold_total} ({found[lib] / gold_total:.1%}) |")
    print(f"\npdfplumber/pypdfium2 time: {sum(times['pdfplumber']) / sum(times['pypdfium2']):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
