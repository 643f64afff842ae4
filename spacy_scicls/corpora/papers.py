"""The paper collections of the data folder, read with :mod:`spacy_scicls.readers`, split in two.

``iter_papers(data_dir, "plos", "test", nlp)`` yields the reader docs of one
collection and split. Collections: ``plos`` (``papers/plos_jats``, JATS),
``unarxive`` (``papers/unarxive``, JSON Lines), ``s2orc``
(``papers/s2orc_fixtures``: the S2ORC JSON files and the PMC JATS files),
``jose`` (``papers/jose_pdf_jats``: the JATS of the Journal of Open Source
Education papers), ``craft`` (``papers/craft_pmc_jats``: PMC JATS).
The split of a paper is :func:`spacy_scicls.corpora.plain_text.split_of`
of its file name (of its ``paper_id`` for JSON Lines records).
"""
from pathlib import Path
from typing import Iterator, List, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc

from ..readers import ReaderError, read_paper, read_papers
from .plain_text import split_of

#: The collections the IMRaD head is trained and evaluated on.
COLLECTIONS = ("plos", "unarxive", "s2orc")
#: Collections read for heading detection only (its out-of-source papers).
HEADING_ONLY_COLLECTIONS = ("jose", "craft")


def _files(data_dir: Path, collection: str) -> List[Tuple[Path, str]]:
    papers = Path(data_dir) / "papers"
    if collection == "plos":
        return [(p, "jats") for p in sorted((papers / "plos_jats").rglob("*.xml"))]
    if collection == "unarxive":
        return [(p, "unarxive") for p in sorted((papers / "unarxive").glob("*.jsonl"))]
    if collection == "s2orc":
        root = papers / "s2orc_fixtures"
        return [(p, "s2orc") for p in sorted(root.glob("s2orc/*/*.json"))] + \
               [(p, "s2orc") for p in sorted(root.glob("pdf/*.json"))] + \
               [(p, "jats") for p in sorted(root.glob("jats/*.nxml"))]
    if collection == "jose":
        return [(p, "jats") for p in sorted((papers / "jose_pdf_jats").glob("*/*.jats"))]
    if collection == "craft":
        return [(p, "jats") for p in sorted((papers / "craft_pmc_jats").glob("*.nxml"))]
    known = ", ".join(COLLECTIONS + HEADING_ONLY_COLLECTIONS)
    raise ValueError(f"unknown collection {collection!r}; collections are {known}")


def iter_papers(data_dir: Union[str, Path], collection: str, split: str, nlp: Language) -> Iterator[Doc]:
    """Reader docs of ``collection`` in ``split`` ("train", "test" or "all"); unreadable files are skipped
    with a message on stderr, so that one bad file does not stop a corpus."""
    import sys

    for path, fmt in _files(Path(data_dir), collection):
        try:
            if fmt == "unarxive":
                for doc in read_papers(path, nlp, format=fmt):
                    key = str(doc._.scicls_meta.get("id") or "")
                    if split in ("all", split_of(key)):
                        yield doc
            elif split in ("all", split_of(path.name)):
                yield read_paper(path, nlp, format=fmt)
        except ReaderError as err:
            print(f"skipped: {err}", file=sys.stderr)
