"""Section titles found by the PDF reader on real PDFs, against gold titles; IMRaD labels of their sections.

Sources (under ``--data-dir``, see the data folder's README):

- ``papers/jose_pdf_jats``: 18 JOSE papers, each as its PDF and as the JATS
  made from the same source; gold = the ``<title>`` of every ``<sec>`` of the
  JATS (all levels, body and back matter).
- ``papers/grobid_tei/pdf``: 3 PDFs whose gold TEI is
  ``papers/grobid_tei/corpus_tei/<name>.training.fulltext.tei.xml``; gold =
  the text of every ``<head>``.

The split: the JOSE papers sorted by name, every other one from the first
(``jose.00090``, ``jose.00184``, ...) is the tuning half, on which the
reader's layout rules and constants were set; the other JOSE half and the
three GROBID PDFs were not looked at while tuning: they are the held-out
papers whose figures count.

Matching: a found title counts when its normalised text equals the
normalised text of a gold title of the same paper not yet matched (a
multiset intersection). Normalisation (:func:`normalise_title`): Unicode
NFKC, every dash as "-", white space collapsed, lower case, then a leading
number removed (``1``, ``2.3.``, ``IV.``, ``B.`` followed by a space, or a
bullet ``■``/``•``/``|``), then trailing ``.``/``:`` removed. The PDF reader
leaves the reference list out of the sections (it goes to the metadata), as
the JATS leaves it out of its ``<sec>`` s; the abstract is metadata, not a
section, in both. For the GROBID pairs, a found "Acknowledg(e)ments" heading
is not counted: their full-text TEI leaves the acknowledgement out.

Then the default pipeline (``--model``) labels the sections of every PDF,
and the distribution of labels is printed (no gold IMRaD labels exist for
these papers; the table shows each heading with its label).

    python scripts/evaluate_pdf_sections.py --data-dir $SCICLS_DATA_DIR

With ``--text-tools``, the same PDFs and gold titles judge the plain-text
path instead: each PDF's text as another PDF-to-text tool gives it
(:data:`TEXT_TOOLS`: pypdfium2's page text, pdfminer.six's ``extract_text``,
pdfplumber's ``extract_text()`` and its side-by-side ``layout=True``, what a
``pdftotext -layout`` user has, with its default character grid and with
a finer one, :data:`FINE_GRID`) is read as a user's ``.txt`` file
(``read_paper(text, nlp, format="text")``) and its headings are found by the
plain-text segmenter that the sections component of ``en_scicls_default``
runs on such a doc (``spacy_scicls.heading_line_sections.v1``, the shipped
heading-line weights): the component's boundaries and headings are the
segmenter's, so the encoder is not run. A found "Abstract" heading and the
reference list's heading are not counted (the gold, like the PDF reader, has
them as metadata, not sections); nor, for the GROBID pairs, an
acknowledgement (as above). A tool that is not installed is skipped with a
message (``pip install -e ".[eval]"`` installs them all).

    python scripts/evaluate_pdf_sections.py --data-dir $SCICLS_DATA_DIR --text-tools all

With ``--typeset test`` (or ``train``), the reader is measured across
typographic styles instead: every PLOS paper of that split with at least
three headings (``papers/plos_jats``, split by
:func:`spacy_scicls.corpora.plain_text.split_of`), shortened to its headings
and the first two paragraphs under each (:func:`spacy_scicls.corpora.typeset.shorten`),
is typeset as a PDF in each named house style and in ``--drawn`` styles drawn
from seeds 0, 1, ... (:mod:`spacy_scicls.corpora.typeset`; needs reportlab),
read back, and matched against the headings it prints, as above. It prints
P/R/F1 per style and the worst style, the figure that counts:

    python scripts/evaluate_pdf_sections.py --data-dir $SCICLS_DATA_DIR --typeset test
"""
import argparse
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[ivxlc]{1,6}\.|[a-h]\.|[■•|▪])\s*(?=\S)")
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")


def normalise_title(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = _DASHES.sub("-", text)
    text = " ".join(text.split()).lower()
    previous = None
    while previous != text:
        previous = text
        text = _NUMBER.sub("", text, count=1).strip()
    return text.rstrip(".: ").strip()


def jats_titles(path: Path) -> List[str]:
    from spacy_scicls.readers._safe_xml import parse_xml

    root = parse_xml(path.read_bytes())
    titles = []
    for sec in root.iter("sec"):
        title = sec.find("title")
        if title is not None:
            titles.append(" ".join("".join(title.itertext()).split()))
    return titles


def tei_titles(path: Path) -> List[str]:
    from spacy_scicls.readers._safe_xml import parse_xml

    root = parse_xml(path.read_bytes())
    return [" ".join("".join(head.itertext()).split()) for head in root.iter() if _local(head.tag) == "head"]


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def papers(data_dir: Path) -> List[Dict]:
    out = []
    jose = sorted((data_dir / "papers" / "jose_pdf_jats").glob("jose.*"))
    for i, folder in enumerate(jose):
        pdf = next(folder.glob("*.pdf"), None)
        jats = next(folder.glob("*.jats"), None) or next(folder.glob("**/*.jats"), None)
        if pdf and jats:
            out.append({"name": folder.name, "source": "jose", "pdf": pdf, "gold": jats_titles(jats),
                        "split": "tune" if i % 2 == 0 else "held-out"})
    grobid = data_dir / "papers" / "grobid_tei"
    for pdf in sorted((grobid / "pdf").glob("*.pdf")):
        tei = grobid / "corpus_tei" / f"{pdf.stem}.training.fulltext.tei.xml"
        if tei.exists():
            out.append({"name": pdf.stem, "source": "grobid", "pdf": pdf, "gold": tei_titles(tei), "split": "held-out"})
    return out


def _pdfium_text(path: Path) -> List[str]:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        pages = []
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return ["\n".join(pages)]
    finally:
        pdf.close()


def _pdfminer_text(path: Path) -> List[str]:
    from pdfminer.high_level import extract_text

    return [extract_text(str(path))]


def _pdfplumber_texts(path: Path) -> List[str]:
    import pdfplumber

    # The three texts from one parse; the layout ones' pages joined as pdftotext joins them (a form feed
    # after each).
    plain, layout, fine = [], [], []
    with pdfplumber.open(str(path)) as pdf:
        for page in pdf.pages:
            plain.append(page.extract_text() or "")
            layout.append(page.extract_text(layout=True) or "")
            fine.append(page.extract_text(layout=True, x_density=FINE_GRID) or "")
            page.close()
    return ["\n".join(plain), "\f".join(layout) + "\f", "\f".join(fine) + "\f"]


#: pdfplumber's layout sets one character per 7.25 pt by default, coarser than a paper's small type: a
#: side bar's or a column's lines then run on into the next column with one space between, and no
#: gutter is left. One character per 4 pt keeps it, as a user of a layout-keeping tool expects
#: (``pdftotext -layout`` itself is a system program, not a Python package, and is not measured).
FINE_GRID = 4.0
#: name -> (module the tool needs, function giving the texts, which of its texts)
TEXT_TOOLS = {
    "pypdfium2": ("pypdfium2", _pdfium_text, 0),
    "pdfminer": ("pdfminer", _pdfminer_text, 0),
    "pdfplumber": ("pdfplumber", _pdfplumber_texts, 0),
    "pdfplumber_layout": ("pdfplumber", _pdfplumber_texts, 1),
    "pdfplumber_layout_fine": ("pdfplumber", _pdfplumber_texts, 2),
}
#: Headings the gold keeps out of its sections (metadata), as the PDF reader does.
_NOT_SECTIONS = re.compile(r"^(?:abstract|references|bibliography|literature cited|reference list)$")


def prf(tp: int, n_pred: int, n_gold: int) -> Tuple[float, float, float]:
    p = tp / n_pred if n_pred else (1.0 if not n_gold else 0.0)
    r = tp / n_gold if n_gold else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(found: List[str], gold: List[str]) -> Tuple[int, List[str], List[str]]:
    """(matched titles, found titles not in the gold, normalised gold titles not found)."""
    left = Counter(normalise_title(t) for t in gold)
    tp, spurious = 0, []
    for title in found:
        key = normalise_title(title)
        if left[key] > 0:
            left[key] -= 1
            tp += 1
        else:
            spurious.append(title)
    missing = [t for t, n in left.items() for _ in range(n)]
    return tp, spurious, missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("SCICLS_DATA_DIR"))
    parser.add_argument("--model", default="en_scicls_default", help="pipeline that labels the sections ('' to skip)")
    parser.add_argument("--split", choices=("all", "tune", "held-out"), default="all")
    parser.add_argument("--verbose", action="store_true", help="print every paper's missing and spurious titles")
    parser.add_argument("--text-tools", nargs="+", metavar="TOOL", choices=["all", *TEXT_TOOLS],
                        help="judge the plain-text path on each tool's text of the PDFs instead "
                             f"({', '.join(TEXT_TOOLS)}, or all)")
    parser.add_argument("--typeset", choices=("train", "test"),
                        help="measure on the PLOS papers of this split typeset in many house styles instead")
    parser.add_argument("--drawn", type=int, default=4, help="--typeset: how many drawn styles besides the named ones")
    parser.add_argument("--max-papers", type=int, default=0, help="--typeset: the first N papers only (0: all)")
    parser.add_argument("--only-style", action="append", default=[], help="--typeset: only these styles")
    args = parser.parse_args(argv)
    if args.data_dir is None:
        parser.error("--data-dir (or SCICLS_DATA_DIR) is required")
    if args.typeset:
        return typeset_styles(Path(args.data_dir), args.typeset, args.drawn, args.max_papers, args.only_style,
                              args.verbose)
    import spacy

    from spacy_scicls.readers import read_paper

    nlp = spacy.blank("en")
    items = [p for p in papers(Path(args.data_dir)) if args.split == "all" or p["split"] == args.split]
    if not items:
        print("no papers found", file=sys.stderr)
        return 1
    if args.text_tools:
        tools = list(TEXT_TOOLS) if "all" in args.text_tools else list(dict.fromkeys(args.text_tools))
        return _text_tools(items, tools, nlp, args.verbose)
    docs = []
    totals: Dict[Tuple[str, str], List[int]] = {}
    rows = []
    started = time.perf_counter()
    pages = 0
    for item in items:
        doc = read_paper(item["pdf"], nlp)
        docs.append((item, doc))
        pages += doc._.scicls_meta["pages"]
        spans = list(doc.spans["sections"])
        if spans and doc._.scicls_meta.get("abstract") and spans[0].label_ == "abstract":
            spans = spans[1:]  # the abstract (metadata) laid out under an "Abstract" heading
        found = [s._.heading for s in spans if s._.heading]
        if item["source"] == "grobid":
            # GROBID's full-text TEI leaves the acknowledgement out (another of its models reads
            # it): its heading has no gold to be matched against
            found = [t for t in found if not normalise_title(t).startswith("acknowledg")]
        gold = item["gold"]
        tp, spurious, missing = score(found, gold)
        p, r, f = prf(tp, len(found), len(gold))
        rows.append((item, p, r, f, tp, len(found), len(gold), spurious, missing))
        for key in ((item["split"], item["source"]), (item["split"], "all")):
            acc = totals.setdefault(key, [0, 0, 0])
            acc[0] += tp
            acc[1] += len(found)
            acc[2] += len(gold)
    elapsed = time.perf_counter() - started
    print(f"read {len(items)} PDFs ({pages} pages) in {elapsed:.1f} s\n")
    print(f"{'paper':<22} {'source':<7} {'split':<9} {'P':>6} {'R':>6} {'F1':>6}  found/gold")
    for item, p, r, f, tp, n_found, n_gold, spurious, missing in rows:
        print(f"{item['name']:<22} {item['source']:<7} {item['split']:<9} {p:6.3f} {r:6.3f} {f:6.3f}  {tp}/{n_found}/{n_gold}")
        if args.verbose and (spurious or missing):
            print(f"    spurious: {spurious}\n    missing:  {missing}")
    print(f"\n{'split':<9} {'source':<7} {'P':>6} {'R':>6} {'F1':>6}  (micro over titles)")
    for (split, source), (tp, n_found, n_gold) in sorted(totals.items()):
        p, r, f = prf(tp, n_found, n_gold)
        print(f"{split:<9} {source:<7} {p:6.3f} {r:6.3f} {f:6.3f}  tp {tp}, found {n_found}, gold {n_gold}")
    for split in ("tune", "held-out"):
        ranked = [row for row in rows if row[0]["split"] == split]
        if ranked:
            worst = min(ranked, key=lambda row: row[3])
            print(f"worst {split} paper: {worst[0]['name']} F1 {worst[3]:.3f} "
                  f"(spurious {worst[7]}, missing {worst[8]})")
    if args.model:
        _imrad(args.model, docs)
    return 0


def _text_tools(items: List[Dict], tools: List[str], nlp, verbose: bool) -> int:
    import importlib

    from spacy_scicls.readers import read_paper
    from spacy_scicls.segmentation.lines import LineModelSegmenter

    available = []
    for tool in tools:
        try:
            importlib.import_module(TEXT_TOOLS[tool][0])
            available.append(tool)
        except ImportError:
            print(f"{tool}: skipped, {TEXT_TOOLS[tool][0]} is not installed (pip install -e \".[eval]\")")
    if not available:
        return 1
    segmenter = LineModelSegmenter()
    totals: Dict[Tuple[str, str], List[int]] = {}
    extract_s: Counter = Counter()
    read_s: Counter = Counter()
    split_pages: Counter = Counter()
    print(f"{'paper':<22} {'source':<7} {'tool':<22} {'P':>6} {'R':>6} {'F1':>6}  found/gold")
    for item in items:
        texts: Dict[object, List[str]] = {}
        for tool in available:
            _, extract, which = TEXT_TOOLS[tool]
            started = time.perf_counter()
            if extract not in texts:
                texts[extract] = extract(item["pdf"])
            extract_s[tool] += time.perf_counter() - started
            started = time.perf_counter()
            doc = read_paper(texts[extract][which], nlp, format="text", name=f"{item['name']} ({tool})")
            found = [s.heading for s in segmenter(doc) if s.heading]
            read_s[tool] += time.perf_counter() - started
            split = doc._.scicls_meta.get("columns_split") or {}
            split_pages[tool] += len(split.get("pages", ()))
            found = [t for t in found if not _NOT_SECTIONS.match(normalise_title(t))]
            if item["source"] == "grobid":
                found = [t for t in found if not normalise_title(t).startswith("acknowledg")]
            tp, spurious, missing = score(found, item["gold"])
            p, r, f = prf(tp, len(found), len(item["gold"]))
            print(f"{item['name']:<22} {item['source']:<7} {tool:<22} {p:6.3f} {r:6.3f} {f:6.3f}  "
                  f"{tp}/{len(found)}/{len(item['gold'])}"
                  + (f"  (read column by column: pages {split['pages']})" if split.get("pages") else ""))
            if verbose and (spurious or missing):
                print(f"    spurious: {spurious}\n    missing:  {missing}")
            for key in ((tool, item["source"]), (tool, "all")):
                acc = totals.setdefault(key, [0, 0, 0])
                acc[0] += tp
                acc[1] += len(found)
                acc[2] += len(item["gold"])
    sources = sorted({item["source"] for item in items}) + ["all"]
    print(f"\nsection titles from each tool's plain text ({len(items)} PDFs; micro over titles)")
    print(f"{'tool':<22} " + " ".join(f"{s + ' P/R/F1':>22}" for s in sources) + "   extract s  segment s  pages in columns")
    worst = None
    for tool in available:
        cells = []
        for source in sources:
            p, r, f = prf(*totals[(tool, source)])
            cells.append(f"{p:.3f}/{r:.3f}/{f:.3f}")
            if source == "all" and (worst is None or f < worst[0]):
                worst = (f, tool)
        print(f"{tool:<22} " + " ".join(f"{c:>22}" for c in cells)
              + f"   {extract_s[tool]:9.1f}  {read_s[tool]:9.1f}  {split_pages[tool]:16d}")
    print("(extract s: a library's one parse of a PDF counts for the first of its tools)")
    print(f"worst tool: {worst[1]} F1 {worst[0]:.3f}")
    return 0


def _found_titles(doc) -> List[str]:
    spans = list(doc.spans["sections"])
    if spans and doc._.scicls_meta.get("abstract") and spans[0].label_ == "abstract":
        spans = spans[1:]  # the abstract (metadata) laid out under an "Abstract" heading
    return [s._.heading for s in spans if s._.heading]


def typeset_styles(data_dir: Path, split: str, drawn: int, max_papers: int, only: List[str], verbose: bool) -> int:
    """Section-title P/R/F1 of the PDF reader per house style, on PLOS papers typeset in each."""
    import spacy

    from spacy_scicls.corpora.papers import iter_papers
    from spacy_scicls.corpora.pdf_layout import reader_blocks
    from spacy_scicls.corpora.typeset import HOUSE_STYLES, TypesetPaper, draw_style, shorten, typeset
    from spacy_scicls.readers import read_paper

    nlp = spacy.blank("en")
    papers = []
    for doc in iter_papers(data_dir, "plos", split, nlp):
        blocks = shorten(reader_blocks(doc))
        if sum(1 for b in blocks if b.kind == "heading") >= 3:
            meta = doc._.scicls_meta
            papers.append((Path(str(meta.get("source"))).stem, meta.get("title") or "", meta.get("abstract") or "", blocks))
        if max_papers and len(papers) >= max_papers:
            break
    styles = list(HOUSE_STYLES) + [draw_style(seed) for seed in range(drawn)]
    if only:
        styles = [s for s in styles if s.name in only]
    if not papers or not styles:
        print("no papers or no styles", file=sys.stderr)
        return 1
    started = time.perf_counter()
    rows = []
    pages = 0
    for style in styles:
        tp = n_found = n_gold = 0
        spurious, missing = Counter(), Counter()
        per_paper = []
        for name, title, abstract, blocks in papers:
            paper = TypesetPaper(title, abstract, blocks)
            doc = read_paper(typeset(paper, style), nlp, format="pdf", name=f"{name}.{style.name}.pdf")
            pages += doc._.scicls_meta["pages"]
            found = _found_titles(doc)
            hit, extra, lost = score(found, paper.gold)
            tp, n_found, n_gold = tp + hit, n_found + len(found), n_gold + len(paper.gold)
            spurious.update(extra)
            missing.update(lost)
            per_paper.append(prf(hit, len(found), len(paper.gold))[2])
        rows.append((style, prf(tp, n_found, n_gold), tp, n_found, n_gold, min(per_paper), spurious, missing))
    elapsed = time.perf_counter() - started
    print(f"PLOS {split} split: {len(papers)} papers x {len(styles)} styles, {pages} pages typeset and read "
          f"in {elapsed:.1f} s\n")
    print(f"{'style':<22} {'P':>6} {'R':>6} {'F1':>6}  {'worst paper F1':>14}  tp/found/gold")
    for style, (p, r, f), tp, n_found, n_gold, worst_paper, spurious, missing in rows:
        print(f"{style.name:<22} {p:6.3f} {r:6.3f} {f:6.3f}  {worst_paper:14.3f}  {tp}/{n_found}/{n_gold}")
        if verbose:
            print(f"    {style}\n    spurious: {spurious.most_common(6)}\n    missing:  {missing.most_common(6)}")
    tp, n_found, n_gold = (sum(row[i] for row in rows) for i in (2, 3, 4))
    p, r, f = prf(tp, n_found, n_gold)
    print(f"{'all styles (micro)':<22} {p:6.3f} {r:6.3f} {f:6.3f}")
    print(f"mean F1 over styles: {sum(row[1][2] for row in rows) / len(rows):.3f}")
    worst = min(rows, key=lambda row: row[1][2])
    print(f"worst style: {worst[0].name} F1 {worst[1][2]:.3f}")
    return 0


def _imrad(model: str, docs) -> None:
    import spacy

    nlp = spacy.load(model)
    labels = Counter()
    by_split = {}
    print(f"\nIMRaD labels of the PDFs' sections ({model})")
    for item, doc in docs:
        doc = nlp(doc)
        for span in doc.spans["sections"]:
            labels[span.label_] += 1
            by_split.setdefault(item["split"], Counter())[span.label_] += 1
        print(f"  {item['name']}: " + "; ".join(f"{s._.heading or '-'} = {s.label_}" for s in doc.spans["sections"]))
    total = sum(labels.values())
    print(f"\n{'label':<14} {'sections':>8} {'share':>6}")
    for label, n in labels.most_common():
        print(f"{label:<14} {n:8d} {n / total:6.1%}")
    print(f"{'all':<14} {total:8d}")


if __name__ == "__main__":
    sys.exit(main())
