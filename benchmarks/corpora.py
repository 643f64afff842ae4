"""Benchmark corpora: abstracts (about 250 words) and full papers (about 8,000 words).

Every record carries two texts: ``text``, what the shared pipeline reads
(and, done the seed way, the section and entity jobs), and ``front``, the
title and abstract, which is all that the seed way's category jobs (ERC,
arXiv, HRCS) read.

Corpora are built from real text found under a data folder (argument, or the
``SCICLS_DATA_DIR`` environment variable): abstracts from the category sets
(``cats/arxiv_2007``, ``cats/arxiv_ml``, ``cats/hrcs_nihr``), papers from the
unarXive sample (``papers/unarxive``). Without a data folder they fall back
to the example papers bundled with the repository. A JSON Lines file with a
``text`` (and optionally a ``front``) field per line is a corpus as well.
Nothing here is written back into the repository.
"""
import csv
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_PAPERS = REPO / "examples" / "papers"

ABSTRACT_WORDS = (200, 300)  # abstracts corpus: title + abstract within this many words
PAPER_WORDS = 8000  # papers corpus: each paper cut to at most this many words ...
MIN_PAPER_FRACTION = 0.75  # ... at a paragraph boundary, and kept if it still has this fraction of them


@dataclass(frozen=True)
class Record:
    text: str
    front: str
    source: str


def n_words(text: str) -> int:
    return len(text.split())


def data_dir_from_env(data_dir: Optional[Path] = None) -> Optional[Path]:
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("SCICLS_DATA_DIR")
    return Path(env) if env else None


def load_corpus(name: str, n_docs: int, data_dir: Optional[Path] = None) -> List[Record]:
    """``n_docs`` records of the corpus ``name``: ``abstracts``, ``papers`` or a ``.jsonl`` path."""
    if n_docs < 1:
        raise ValueError(f"n_docs must be at least 1, got {n_docs}")
    if name == "abstracts":
        records = load_abstracts(n_docs, data_dir_from_env(data_dir))
    elif name == "papers":
        records = load_papers(n_docs, data_dir_from_env(data_dir))
    elif name.endswith(".jsonl"):
        records = read_jsonl(Path(name))[:n_docs]
    else:
        raise ValueError(f"unknown corpus {name!r}: use 'abstracts', 'papers' or a .jsonl file")
    if not records:
        raise ValueError(f"corpus {name!r} has no documents")
    return records


# --- abstracts ---------------------------------------------------------------------------

def load_abstracts(n_docs: int, data_dir: Optional[Path]) -> List[Record]:
    if data_dir is None or not (data_dir / "cats").is_dir():
        return _repeat(example_abstracts(), n_docs)
    sources = [
        _csv_records(data_dir / "cats/arxiv_2007/arxiv_data.csv", "title", "abstract", "arxiv_2007"),
        _csv_records(data_dir / "cats/arxiv_ml/arxiv_data.csv", "titles", "summaries", "arxiv_ml"),
        _csv_records(data_dir / "cats/hrcs_nihr/nihr-summary-view.csv", "Project_Title", "Scientific_Abstract", "hrcs_nihr"),
    ]
    low, high = ABSTRACT_WORDS
    filtered = [[r for r in source if low <= n_words(r.text) <= high] for source in sources]
    records = _round_robin(filtered, n_docs)
    if not records:
        raise ValueError(f"no abstract of {low}-{high} words under {data_dir / 'cats'}")
    return _repeat(records, n_docs)


def _csv_records(path: Path, title_col: str, abstract_col: str, source: str) -> List[Record]:
    if not path.exists():
        return []
    records = []
    with path.open(newline="", encoding="utf8") as fh:
        for row in csv.DictReader(fh):
            title = _clean(row.get(title_col) or "")
            abstract = _clean(row.get(abstract_col) or "")
            if title and abstract:
                text = f"{title}\n\n{abstract}"
                records.append(Record(text=text, front=text, source=source))
    return records


def _example_texts() -> List[Path]:
    """The example papers written as text (the PDF among them is the Markdown one printed)."""
    return [path for path in sorted(EXAMPLE_PAPERS.iterdir()) if path.suffix in (".txt", ".md")]


def example_abstracts() -> List[Record]:
    """The bundled example papers, each short enough to stand for an abstract."""
    records = []
    for path in _example_texts():
        text = path.read_text(encoding="utf8")
        records.append(Record(text=text, front=text, source=f"examples/{path.name}"))
    return records


# --- papers ------------------------------------------------------------------------------

_MARKER = re.compile(r"\{\{(formula|cite|figure|table|footnote)[^}]*\}\}")


def load_papers(n_docs: int, data_dir: Optional[Path], max_words: int = PAPER_WORDS) -> List[Record]:
    path = data_dir / "papers/unarxive/arXiv_src_2212_086.jsonl" if data_dir is not None else None
    if path is None or not path.exists():
        return _repeat(example_papers(max_words), n_docs)
    records = []
    with path.open(encoding="utf8") as fh:
        for line in fh:
            record = _unarxive_record(json.loads(line), max_words)
            if record is not None and n_words(record.text) >= MIN_PAPER_FRACTION * max_words:
                records.append(record)
    if not records:
        raise ValueError(f"no paper of at least {MIN_PAPER_FRACTION * max_words:.0f} words in {path}")
    return _repeat(records, n_docs)


def _unarxive_record(paper: Dict, max_words: int) -> Optional[Record]:
    meta = paper.get("metadata") or {}
    title = _clean(meta.get("title") or "")
    abstract = _clean((paper.get("abstract") or {}).get("text") or meta.get("abstract") or "")
    front = f"{title}\n\nAbstract\n{abstract}"
    parts = [front]
    words = n_words(front)
    section = None
    for block in paper.get("body_text") or []:
        text = _clean(_MARKER.sub(lambda m: m.group(1).upper(), block.get("text") or ""))
        if not text:
            continue
        if block.get("section") and block.get("section") != section:
            section = block["section"]
            number = block.get("sec_number") or ""
            heading = f"{number} {section}".strip()
            text = f"{heading}\n{text}"
        if words + n_words(text) > max_words:
            break
        parts.append(text)
        words += n_words(text)
    if len(parts) == 1:
        return None
    return Record(text="\n\n".join(parts), front=front, source=f"unarxive/{paper.get('paper_id')}")


def example_papers(max_words: int = PAPER_WORDS) -> List[Record]:
    """One long paper from the bundled examples: their texts, one after another,
    repeated up to ``max_words`` words (a stand-in when no data folder is given)."""
    texts = [path.read_text(encoding="utf8") for path in _example_texts()]
    parts, words = [], 0
    while True:
        for text in texts:
            if words + n_words(text) > max_words:
                body = "\n\n".join(parts)
                return [Record(text=body, front=texts[0], source="examples (repeated)")]
            parts.append(text)
            words += n_words(text)


# --- helpers -----------------------------------------------------------------------------

def read_jsonl(path: Path) -> List[Record]:
    records = []
    with path.open(encoding="utf8") as fh:
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path}:{i}: each line must be an object with a string 'text'")
            front = row.get("front") if isinstance(row.get("front"), str) else row["text"]
            records.append(Record(text=row["text"], front=front, source=str(row.get("source", path.name))))
    return records


def write_jsonl(records: Sequence[Record], path: Path) -> None:
    with path.open("w", encoding="utf8") as fh:
        for record in records:
            fh.write(json.dumps(asdict(record)) + "\n")


def _clean(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text.replace("\r", "")).strip()


def _round_robin(sources: List[List[Record]], n: int) -> List[Record]:
    out: List[Record] = []
    iterators: List[Iterator[Record]] = [iter(s) for s in sources if s]
    while iterators and len(out) < n:
        for it in list(iterators):
            record = next(it, None)
            if record is None:
                iterators.remove(it)
            elif len(out) < n:
                out.append(record)
    return out


def _repeat(records: List[Record], n: int) -> List[Record]:
    """The first ``n`` records, cycling through them when there are fewer."""
    return [records[i % len(records)] for i in range(n)] if records else []
