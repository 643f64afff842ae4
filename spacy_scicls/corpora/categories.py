"""Document-category corpora: arXiv metadata and NIHR awards as gold docs.

Three CSV layouts are read (each a public data set; see docs/categories.md):

- ``cats/arxiv_2007``: arXiv metadata records, ``categories`` space-separated
  with the primary category first;
- ``cats/arxiv_ml``: arXiv titles and abstracts with a Python-literal list of
  ``terms`` (these lists also hold a few MSC/ACM class codes such as
  ``"68T05"`` or ``"I.2.6"``, which are not arXiv categories and are dropped);
- ``cats/hrcs_nihr``: NIHR awards with HRCS Health Categories (comma-separated)
  and Research Activity Codes (``"6.1 Pharmaceuticals/6.4 Surgery"``).

Each row becomes a :class:`CategoryRecord` whose labels are canonical codes per
taxonomy (``{"arxiv": ["hep-ph", "hep-th"]}``, primary first). A label that the
taxonomy does not know raises :class:`~spacy_scicls.taxonomies.UnknownLabelError`
naming the file and row. Optionally ERC panels are added as *silver* labels
through the crosswalk (:mod:`spacy_scicls.taxonomies.crosswalk`).

Splits are seeded and stable: a record's split depends only on the seed and a
hash of its normalised title, so duplicates land in the same split and adding
rows never moves old ones.
"""
import ast
import csv
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Union

from spacy.language import Language
from spacy.tokens import Doc

from ..taxonomies import UnknownLabelError, load_taxonomy
from ..taxonomies.crosswalk import silver_erc_panels

PathLike = Union[str, Path]

# The shape of an arXiv category ("cs.CL", "hep-ph", "cond-mat.str-el", "q-bio.NC");
# anything else in arxiv_ml's term lists is an MSC/ACM class code.
_ARXIV_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")
SPLITS = ("train", "dev", "test")


@dataclass
class CategoryRecord:
    """One labelled document: its text parts and canonical codes per taxonomy."""

    id: str
    source: str
    title: str
    abstract: str
    labels: Dict[str, List[str]] = field(default_factory=dict)
    #: A plain-language summary where the source has one (NIHR awards'
    #: ``Plain_English_Abstract``); not part of :attr:`text`.
    summary: str = ""

    @property
    def text(self) -> str:
        """Title, a blank line, then the abstract (what the heads read)."""
        return f"{self.title.strip()}\n\n{self.abstract.strip()}".strip()


def _csv_rows(path: Path) -> Iterable[Dict[str, str]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _find_csv(path: PathLike, name: str) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / name
    if not path.is_file():
        raise FileNotFoundError(f"Data file not found: {str(path)!r} (expected {name!r})")
    return path


def _normalise_all(taxonomy: str, raws: Iterable[str], where: str) -> List[str]:
    tax = load_taxonomy(taxonomy)
    codes: List[str] = []
    for raw in raws:
        raw = raw.strip()
        if not raw:
            continue
        try:
            code = tax.normalise(raw)
        except UnknownLabelError as err:
            raise UnknownLabelError(
                f"{where}: {err}", taxonomy=err.taxonomy, raw=err.raw, suggestions=err.suggestions
            ) from None
        if code not in codes:
            codes.append(code)
    return codes


def _require(row: Dict[str, str], columns: Sequence[str], path: Path) -> None:
    missing = [c for c in columns if c not in row]
    if missing:
        raise ValueError(f"{str(path)!r} lacks the column(s) {missing}; found {sorted(row)}")


def read_arxiv_2007(path: PathLike, *, silver_erc: bool = False) -> List[CategoryRecord]:
    """arXiv metadata rows (``id, title, abstract, categories``; primary category first)."""
    path = _find_csv(path, "arxiv_data.csv")
    records = []
    for i, row in enumerate(_csv_rows(path)):
        _require(row, ("title", "abstract", "categories"), path)
        where = f"{path.name} row {i + 1}"
        codes = _normalise_all("arxiv", row["categories"].split(), where)
        if not codes:
            continue
        records.append(
            _record(f"arxiv_2007:{i}", "arxiv_2007", row["title"], row["abstract"],
                    {"arxiv": codes}, silver_erc)
        )
    return records


def read_arxiv_ml(path: PathLike, *, silver_erc: bool = False) -> List[CategoryRecord]:
    """arXiv rows with ``titles, summaries, terms`` (a Python-literal list)."""
    path = _find_csv(path, "arxiv_data.csv")
    records = []
    for i, row in enumerate(_csv_rows(path)):
        _require(row, ("titles", "summaries", "terms"), path)
        where = f"{path.name} row {i + 1}"
        try:
            terms = ast.literal_eval(row["terms"])
        except (ValueError, SyntaxError):
            raise ValueError(f"{where}: 'terms' is not a list literal: {row['terms'][:80]!r}") from None
        if isinstance(terms, str):
            terms = [terms]
        terms = [t for t in terms if isinstance(t, str) and _ARXIV_CATEGORY.match(t.strip())]
        codes = _normalise_all("arxiv", terms, where)
        if not codes:
            continue
        records.append(
            _record(f"arxiv_ml:{i}", "arxiv_ml", row["titles"], row["summaries"], {"arxiv": codes}, silver_erc)
        )
    return records


HRCS_HC_COLUMN = "HRCS _Health_Category"
HRCS_RAC_COLUMN = "UKCRC_Value_RAC"


def read_hrcs_nihr(path: PathLike, *, silver_erc: bool = False) -> List[CategoryRecord]:
    """NIHR award rows: title, scientific abstract, HRCS Health Categories and RAC codes."""
    path = _find_csv(path, "nihr-summary-view.csv")
    records = []
    for i, row in enumerate(_csv_rows(path)):
        _require(row, ("Project_Title", "Scientific_Abstract", HRCS_HC_COLUMN, HRCS_RAC_COLUMN), path)
        where = f"{path.name} row {i + 1}"
        labels = {
            "hrcs_hc": _normalise_all("hrcs_hc", row[HRCS_HC_COLUMN].split(","), where),
            "hrcs_rac": _normalise_all("hrcs_rac", row[HRCS_RAC_COLUMN].split("/"), where),
        }
        labels = {name: codes for name, codes in labels.items() if codes}
        if not labels:
            continue
        record = _record(f"hrcs_nihr:{i}", "hrcs_nihr", row["Project_Title"],
                         row["Scientific_Abstract"], labels, silver_erc)
        record.summary = (row.get("Plain_English_Abstract") or "").strip()
        records.append(record)
    return records


def _record(id_: str, source: str, title: str, abstract: str, labels: Dict[str, List[str]],
            silver_erc: bool) -> CategoryRecord:
    title = " ".join((title or "").split())
    abstract = (abstract or "").strip()
    if silver_erc:
        panels = silver_erc_panels(labels)
        if panels:
            labels = {**labels, "erc": panels}
    return CategoryRecord(id=id_, source=source, title=title, abstract=abstract, labels=labels)


READERS = {"arxiv_2007": read_arxiv_2007, "arxiv_ml": read_arxiv_ml, "hrcs_nihr": read_hrcs_nihr}


def read_category_corpora(
    data_dir: PathLike, names: Sequence[str] = tuple(READERS), *, silver_erc: bool = True
) -> List[CategoryRecord]:
    """Read ``<data_dir>/cats/<name>`` (or ``<data_dir>/<name>``) for each corpus name."""
    data_dir = Path(data_dir)
    records: List[CategoryRecord] = []
    for name in names:
        if name not in READERS:
            raise ValueError(f"Unknown category corpus {name!r}; expected one of {sorted(READERS)}")
        folder = data_dir / "cats" / name
        if not folder.is_dir():
            folder = data_dir / name
        records.extend(READERS[name](folder, silver_erc=silver_erc))
    return records


def split_of(record: CategoryRecord, *, seed: int = 0, dev: float = 0.15, test: float = 0.15) -> str:
    """``"train"``, ``"dev"`` or ``"test"`` from a seeded hash of the normalised title."""
    if not (0.0 <= dev and 0.0 <= test and dev + test < 1.0):
        raise ValueError(f"dev and test fractions must be >= 0 and sum to < 1, got {dev}, {test}")
    key = " ".join(record.title.casefold().split()) or record.id
    digest = hashlib.sha1(f"{seed}\x00{key}".encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < test:
        return "test"
    if u < test + dev:
        return "dev"
    return "train"


def split_records(
    records: Iterable[CategoryRecord], *, seed: int = 0, dev: float = 0.15, test: float = 0.15
) -> Dict[str, List[CategoryRecord]]:
    """Seeded train/dev/test split (see :func:`split_of`)."""
    splits: Dict[str, List[CategoryRecord]] = {name: [] for name in SPLITS}
    for record in records:
        splits[split_of(record, seed=seed, dev=dev, test=test)].append(record)
    return splits


def records_to_docs(nlp: Language, records: Iterable[CategoryRecord],
                    taxonomies: Optional[Sequence[str]] = None) -> List[Doc]:
    """Gold docs: ``doc.cats["taxonomy/code"] = 1.0`` for each label, primary first.

    ``doc.user_data["scicls_record"]`` keeps the record id and source.
    """
    docs = []
    for record in records:
        doc = nlp.make_doc(record.text)
        for name, codes in record.labels.items():
            if taxonomies is not None and name not in taxonomies:
                continue
            tax = load_taxonomy(name)
            for code in codes:
                doc.cats[tax.cat_key(code)] = 1.0
        doc.user_data["scicls_record"] = (record.source, record.id)
        docs.append(doc)
    return docs
