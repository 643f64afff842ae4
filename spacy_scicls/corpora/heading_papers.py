"""The data folder's papers as printed blocks with gold headings, for training and judging the heading-line scorer.

Sources (``SOURCES``):

- ``grobid`` and ``grobid_more``: GROBID's full-text training TEI
  (``papers/grobid_tei/corpus_tei`` and ``more_tei``), a real PDF's lines
  with gold ``<head>`` s (:func:`.plain_text.tei_blocks`);
- ``plos``, ``unarxive``, ``s2orc``, ``jose``, ``craft``: the readers' papers
  (:mod:`.papers`) laid out as a PDF would print them
  (:func:`.pdf_layout.lay_out_blocks`, with their figure and table captions
  where the source has them), in a page style drawn per paper.

Every paper is in the "train" or the "test" split by
:func:`.plain_text.split_of` of its file name (its ``paper_id`` for unarXive).
The ``jose`` and ``craft`` papers are never trained on: they are the
out-of-source test (``OUT_OF_SOURCE``), all of them, whatever their split.
"""
import sys
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Union
from xml.parsers.expat import ExpatError

from . import pdf_layout
from .papers import iter_papers
from .plain_text import split_of, tei_blocks
from .printed import PrintedBlock

SOURCES = ("grobid", "grobid_more", "plos", "unarxive", "s2orc", "jose", "craft")
#: Sources kept out of training entirely: the out-of-source figure.
OUT_OF_SOURCE = ("jose", "craft")
_TEI_FOLDERS = {"grobid": "corpus_tei", "grobid_more": "more_tei"}


class PrintedPaper(NamedTuple):
    source: str
    name: str
    blocks: List[PrintedBlock]


def printed_papers(data_dir: Union[str, Path], source: str, split: str, nlp=None,
                   layout_seed: int = 0) -> Iterator[PrintedPaper]:
    """The papers of ``source`` in ``split`` ("train", "test" or "all") as printed
    blocks. ``nlp`` (a blank English pipeline by default) tokenises the
    readers' docs; ``layout_seed`` seeds the page styles of the laid-out papers."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; sources are {', '.join(SOURCES)}")
    if split not in ("train", "test", "all"):
        raise ValueError(f"unknown split {split!r}: train, test or all")
    data_dir = Path(data_dir)
    if source in _TEI_FOLDERS:
        for path in sorted((data_dir / "papers" / "grobid_tei" / _TEI_FOLDERS[source]).glob("*.tei.xml")):
            if split in ("all", split_of(path.name)):
                try:
                    blocks = tei_blocks(path)
                except (ValueError, ExpatError) as err:  # one malformed file does not stop the corpus
                    print(f"skipped {path.name}: {err}", file=sys.stderr)
                    continue
                yield PrintedPaper(source, path.name, blocks)
        return
    if nlp is None:
        import spacy

        nlp = spacy.blank("en")
    records: Optional[Dict[str, Dict]] = None
    if source == "unarxive":
        records = pdf_layout.unarxive_records(sorted((data_dir / "papers" / "unarxive").glob("*.jsonl")))
    for doc in iter_papers(data_dir, source, split, nlp):
        meta = doc._.scicls_meta
        name = Path(str(meta.get("source") or meta.get("id"))).name if source != "unarxive" else str(meta["id"])
        if records is not None:
            floats = pdf_layout.unarxive_floats(records.get(str(meta["id"]), {}))
        elif str(meta.get("format")) == "jats":
            floats = pdf_layout.jats_floats(meta["source"])
        else:
            floats = []
        blocks = pdf_layout.lay_out_blocks(pdf_layout.reader_blocks(doc),
                                           pdf_layout.paper_seed(name, 0, layout_seed), floats=floats)
        if any(block.kind == "heading" for block in blocks):
            yield PrintedPaper(source, name, blocks)
