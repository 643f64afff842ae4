"""Pages per second and peak memory of the PDF reader alone and of the whole pipeline from a PDF.

    python benchmarks/pdf_reader.py --pdf PAPER.pdf [--pages 10 300] [--runs 3] [--model en_scicls_default]

The PDFs of ``--pages`` pages are made from ``--pdf`` by repeating its pages
(one pypdfium2 page import, so the file is a real PDF of that length whose
pages share their fonts, as a paper's pages do). Each
figure comes from a fresh process (so that one measurement's peak does not
hide the next): the reader alone (``read_paper`` with a blank spaCy
pipeline's tokenizer), and the whole pipeline (the same, then the default
pipeline on the Doc). Peak memory is the process's peak resident set size
above what it held after its imports (and, for the pipeline, after loading
it); the table also gives the size of the text read, so that one can see
whether memory grows with the page count beyond the text itself. Times are
the median of ``--runs`` runs (each its own process); ``--threads`` sets
torch's threads for the pipeline. For the whole pipeline it also prints the
peak and the resident memory after reading and after each component (the
components run one at a time, as ``nlp(doc)`` runs them), which shows where
the peak comes from.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PDF = REPO / "examples" / "papers" / "span_language_models.pdf"


def make_pdf(source: Path, pages: int, out: Path) -> Path:
    """A PDF of ``pages`` pages: the pages of ``source`` over and over."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument(str(source))
    dest = pdfium.PdfDocument.new()
    n = len(src)
    # one import: the copies share the source's fonts and images, as the pages of one paper do
    dest.import_pages(src, [i % n for i in range(pages)])
    dest.save(str(out))
    dest.close()
    src.close()
    return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(mode: str, path: str, model: str, threads: int) -> dict:
    """One measurement in this process (run by the parent in a fresh interpreter)."""
    import spacy

    from spacy_scicls.readers import read_paper

    if mode == "pipeline":
        from spacy_scicls.threads import set_cpu_threads

        set_cpu_threads(threads)
        nlp = spacy.load(model)
    else:
        nlp = spacy.blank("en")
    read_paper(DEFAULT_PDF, nlp)  # warm up: imports, the heading model's weights
    if mode == "pipeline":
        nlp(read_paper(DEFAULT_PDF, nlp))
    base = _current_rss_mb()
    started = time.perf_counter()
    doc = read_paper(path, nlp)
    read_seconds = time.perf_counter() - started
    steps = [("read", _rss_mb() - base, _current_rss_mb() - base)]
    if mode == "pipeline":
        # What nlp(doc) does, one component at a time, to see which one raises the peak.
        for name, component in nlp.pipeline:
            doc = component(doc)
            steps.append((name, _rss_mb() - base, _current_rss_mb() - base))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "read_seconds": read_seconds, "pages": doc._.scicls_meta["pages"],
            "chars": len(doc.text), "tokens": len(doc), "peak_above_mb": _rss_mb() - base, "base_mb": base,
            "sections": len(doc.spans["sections"]), "steps": steps}


def measure(mode: str, path: Path, model: str, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, str(path), "--model", model, "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"measurement failed ({mode}, {path}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdf", type=Path, default=DEFAULT_PDF, help="the PDF whose pages are repeated")
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 300])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="en_scicls_default")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=["reader", "pipeline"], choices=["reader", "pipeline"])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PDF"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.model, args.threads)))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for pages in args.pages:
            path = make_pdf(args.pdf, pages, Path(tmp) / f"{pages}.pdf")
            size_mb = path.stat().st_size / 2**20
            for mode in args.modes:
                runs = [measure(mode, path, args.model, args.threads) for _ in range(args.runs)]
                seconds = statistics.median(r["seconds"] for r in runs)
                rows.append({
                    "pages": pages, "mode": mode, "file_mb": size_mb, "seconds": seconds,
                    "pages_per_s": pages / seconds, "chars": runs[0]["chars"], "tokens": runs[0]["tokens"],
                    "peak_above_mb": statistics.median(r["peak_above_mb"] for r in runs),
                    "read_seconds": statistics.median(r["read_seconds"] for r in runs),
                    "steps": [(name, statistics.median(r["steps"][i][1] for r in runs),
                               statistics.median(r["steps"][i][2] for r in runs))
                              for i, (name, _, _) in enumerate(runs[0]["steps"])],
                })
                print(json.dumps(rows[-1]), flush=True)  # each row as soon as it is measured
    print(f"source: {args.pdf.name}; median of {args.runs} runs, one process each; torch threads {args.threads}\n")
    print("| pages | file MB | what | pages/s | median s | text chars | peak RSS above start, MB |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for row in rows:
        what = "reader alone" if row["mode"] == "reader" else "whole pipeline"
        print(f"| {row['pages']} | {row['file_mb']:.1f} | {what} | {row['pages_per_s']:.2f} | {row['seconds']:.2f} | "
              f"{row['chars']:,} | {row['peak_above_mb']:.1f} |")
    pipeline_rows = [row for row in rows if row["mode"] == "pipeline"]
    if pipeline_rows:
        print("\nwhole pipeline, after each step: peak RSS / resident above start, MB")
        print("| step | " + " | ".join(f"{row['pages']} pages ({row['tokens']:,} tokens)" for row in pipeline_rows) + " |")
        print("|---|" + "---:|" * len(pipeline_rows))
        for i, (name, _, _) in enumerate(pipeline_rows[0]["steps"]):
            cells = [f"{row['steps'][i][1]:.0f} / {row['steps'][i][2]:.0f}" for row in pipeline_rows]
            print(f"| {name} | " + " | ".join(cells) + " |")
    by = {(r["pages"], r["mode"]): r for r in rows}
    if len(args.pages) >= 2:
        small, large = min(args.pages), max(args.pages)
        for mode in args.modes:
            a, b = by[(small, mode)], by[(large, mode)]
            print(f"\n{mode}: {large}/{small} pages: time x{b['seconds'] / a['seconds']:.1f}, "
                  f"text x{b['chars'] / a['chars']:.1f}, peak memory above start "
                  f"{a['peak_above_mb']:.1f} -> {b['peak_above_mb']:.1f} MB "
                  f"({(b['peak_above_mb'] - a['peak_above_mb']) * 2**20 / max(1, b['chars'] - a['chars']):.0f} bytes "
                  "per added character of text)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
