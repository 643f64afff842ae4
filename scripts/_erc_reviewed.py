"""The reviewer-labelled ERC set (``scripts/data/erc_reviewed.csv``), for scripts/evaluate_categories.py.

No text with real ERC panels is available to this project, so its reviewers gave each of
150 real abstracts of the data folder (arXiv papers of the category corpora's test
split, NIHR test awards, PLOS, CRAFT and JOSE articles, ClimateIE and unarXive papers) its
ERC 2024 panel by reading the title and abstract and the panel and sub-panel descriptors, as
an ERC reviewer would: one primary panel and, where two panels would be equally right, an
acceptable second one. The file holds ids, panels and source files only; the texts are read
from the data folder (``reviewed_docs``).

The set is split by a seeded hash of each id into ``dev`` (used to choose settings) and
``test`` (reported once per chosen setting).
"""
import csv
import glob
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from _cats_outside import _short, _text_of, read_climate, read_plos, read_unarxive
from spacy_scicls.corpora import read_category_corpora
from spacy_scicls.readers._safe_xml import parse_xml
from spacy_scicls.taxonomies import load_taxonomy

REVIEWED = Path(__file__).resolve().parent / "data" / "erc_reviewed.csv"
SPLITS = ("dev", "test")
# The category corpora, whose records are read by the package's own readers.
CATEGORY_CORPORA = ("arxiv_2007", "arxiv_ml", "hrcs_nihr")


class ReviewedSetError(ValueError):
    """A malformed row of the reviewed set: the message names the file and the line."""


@dataclass
class Reviewed:
    id: str
    source: str
    panel: str
    alt_panel: str = ""
    note: str = ""

    @property
    def panels(self) -> List[str]:
        return [p for p in (self.panel, self.alt_panel) if p]

    @property
    def corpus(self) -> str:
        """The data folder the record comes from (``cats/arxiv_2007``, ``papers/plos_jats``, ...)."""
        return "/".join(self.source.split("/")[:2])


def read_reviewed(path: Path = REVIEWED) -> List[Reviewed]:
    """The rows of the reviewed set; ``#`` lines are comments. Panels must be ERC 2024 panels."""
    erc = load_taxonomy("erc")
    rows: List[Reviewed] = []
    seen: Dict[str, int] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise ReviewedSetError(f"{path}: no rows")
    header, *body = numbered
    reader = csv.DictReader([header[1]] + [line for _, line in body])
    if not {"id", "source", "panel"} <= set(reader.fieldnames or []):
        raise ReviewedSetError(f"{path} line {header[0]}: the header needs id, source and panel")
    for (n, _), row in zip(body, reader):
        item = Reviewed(**{k: (row.get(k) or "").strip() for k in ("id", "source", "panel", "alt_panel", "note")})
        for code in item.panels:
            if code not in erc.codes:
                raise ReviewedSetError(f"{path} line {n}: {code!r} is not an ERC 2024 panel")
        if not item.id or not item.panel:
            raise ReviewedSetError(f"{path} line {n}: id and panel are required")
        if item.id in seen:
            raise ReviewedSetError(f"{path} line {n}: duplicate id {item.id!r} (first on line {seen[item.id]})")
        seen[item.id] = n
        rows.append(item)
    return rows


def split_of(item: Reviewed, seed: int = 0) -> str:
    """``dev`` or ``test``, about half each, from a seeded hash of the id."""
    digest = hashlib.sha1(f"erc-reviewed\x00{seed}\x00{item.id}".encode("utf-8")).digest()
    return "dev" if digest[0] < 128 else "test"


def read_craft(data: Path) -> Dict[str, str]:
    """Title and abstract of each CRAFT PMC article, by id ``craft:<file stem>``."""
    texts = {}
    for path in sorted(glob.glob(str(data / "papers" / "craft_pmc_jats" / "*.nxml"))):
        root = parse_xml(Path(path).read_bytes())
        title = _text_of(next(root.iter("article-title"), None))
        abstract = _text_of(next(root.iter("abstract"), None))
        texts[f"craft:{Path(path).stem}"] = _short(f"{title}\n\n{abstract}")
    return texts


def read_jose(data: Path) -> Dict[str, str]:
    """Title and first body section (JOSE papers have no abstract; the first section is their
    summary) of each JOSE paper, by id ``jose:<folder name>``."""
    texts = {}
    for path in sorted(glob.glob(str(data / "papers" / "jose_pdf_jats" / "*" / "*.jats"))):
        root = parse_xml(Path(path).read_bytes())
        title = _text_of(next(root.iter("article-title"), None))
        body = next(root.iter("body"), None)
        first = next(iter(body.findall("sec")), None) if body is not None else None
        paragraphs = " ".join(_text_of(p) for p in first.findall("p")) if first is not None else ""
        texts[f"jose:{Path(path).parent.name}"] = _short(f"{title}\n\n{paragraphs}")
    return texts


def all_texts(data: Path) -> Dict[str, str]:
    """Every candidate text of the sources the reviewed set draws from, by id."""
    texts = {r.id: r.text for r in read_category_corpora(data, CATEGORY_CORPORA, silver_erc=False)}
    for reader in (read_climate, read_plos, read_unarxive):
        texts.update((doc.id, doc.text) for doc in reader(data))
    texts.update(read_craft(data))
    texts.update(read_jose(data))
    return texts


def reviewed_docs(data: Path, items: Sequence[Reviewed]) -> List[str]:
    """The title + abstract text of each reviewed item, read from the data folder."""
    texts = all_texts(data)
    missing = [item.id for item in items if item.id not in texts]
    if missing:
        raise ReviewedSetError(f"{len(missing)} reviewed ids are not in the data folder {data}: {missing[:5]}")
    return [texts[item.id] for item in items]


def reviewed_figures(items: Sequence[Reviewed], top: Sequence[Optional[str]]) -> Dict[str, Dict[str, float]]:
    """Top panel right (primary or alt) and domain right, for PE+LS items, all items and per corpus.

    ``top`` is each item's most probable panel (None where a system gives none).
    Returns ``{group: {"n", "panel", "domain"}}``, shares in 0..1.
    """
    groups: Dict[str, List[int]] = {"PE+LS": [], "all": []}
    for i, item in enumerate(items):
        groups["all"].append(i)
        if item.panel[:2] in ("PE", "LS"):
            groups["PE+LS"].append(i)
        groups.setdefault(item.corpus, []).append(i)
    out = {}
    for name, idx in groups.items():
        panel = sum(1 for i in idx if top[i] in items[i].panels)
        domain = sum(1 for i in idx if top[i] and top[i][:2] in {p[:2] for p in items[i].panels})
        out[name] = {"n": len(idx), "panel": panel / max(len(idx), 1), "domain": domain / max(len(idx), 1)}
    return out


def format_figures(system: str, figures: Dict[str, Dict[str, float]], per_corpus: bool = True) -> List[str]:
    lines = []
    for name, f in figures.items():
        if not per_corpus and name not in ("PE+LS", "all"):
            continue
        lines.append(f"{system:22s} {name:24s} n={f['n']:3d}  top panel right {f['panel']:.3f}  "
                     f"domain right {f['domain']:.3f}")
    return lines


if __name__ == "__main__":  # print the set's size per split and corpus
    import collections
    import sys

    items = read_reviewed(Path(sys.argv[1]) if len(sys.argv) > 1 else REVIEWED)
    counts = collections.Counter((split_of(i), i.corpus) for i in items)
    print(json.dumps({f"{s} {c}": n for (s, c), n in sorted(counts.items())}, indent=1))
