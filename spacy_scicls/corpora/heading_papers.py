"""The data folder's papers as printed blocks with gold headings, for training and judging the heading-line scorer.

Sources (``SOURCES``):

- ``grobid`` and ``grobid_more``: GROBID's full-text training TEI
  (``papers/grobid_tei/corpus_tei`` and ``more_tei``), a real PDF's lines
  with gold ``<head>`` s (:func:`.plain_text.tei_blocks`);
- ``plos``, ``unarxive``, ``s2orc``, ``jose``, ``craft``: the readers' papers
  (:mod:`.papers`) laid out as a PDF would print them
  (:func:`.pdf_layout.lay_out_blocks`, with their figure and table captions
  where the source has them), in a page style drawn per paper, most of them
  (four in five) after their front matter as a PDF's first page has it: the
  title, a line of authors, the "Abstract" heading (a gold heading, as the
  readers give it) and the abstract (:func:`front_matter`), and most of them
  (four in five) followed by their reference list as printed, under its
  heading (:func:`.references.reference_blocks`), since the papers users
  hold end in one.

Every paper is in the "train" or the "test" split by
:func:`.plain_text.split_of` of its file name (its ``paper_id`` for unarXive).
The ``jose`` and ``craft`` papers are never trained on: they are the
out-of-source test (``OUT_OF_SOURCE``), all of them, whatever their split.
"""
import sys
import zlib
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Union
from xml.parsers.expat import ExpatError

import numpy

from . import pdf_layout, references
from .papers import iter_papers
from .plain_text import split_of, tei_blocks
from .printed import PrintedBlock

SOURCES = ("grobid", "grobid_more", "plos", "unarxive", "s2orc", "jose", "craft")
#: Sources kept out of training entirely: the out-of-source figure.
OUT_OF_SOURCE = ("jose", "craft")
_TEI_FOLDERS = {"grobid": "corpus_tei", "grobid_more": "more_tei"}


# Authors are not in the readers' metadata: a line of made-up names in the usual styles stands for them.
_INITIALS = "ABCDEFGHJKLMNPRSTW"
_SURNAMES = ("Author", "Okafor", "Lindqvist", "García", "Chen", "Müller", "Tanaka", "Kowalski", "Haddad", "Rossi",
             "Nguyen", "Smith", "Ivanova", "Dubois", "Patel", "O'Brien", "van der Berg", "Kim")


def _authors_line(rng: numpy.random.Generator) -> str:
    names = []
    for _ in range(int(rng.integers(1, 6))):
        surname = str(rng.choice(_SURNAMES))
        initial = str(rng.choice(list(_INITIALS)))
        names.append(f"{initial}. {surname}" if rng.random() < 0.6 else f"{surname} {initial}")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + str(rng.choice([" and ", ", ", " & "])) + names[-1]


def front_matter(title: str, abstract: str, seed: int) -> List[PrintedBlock]:
    """A paper's first page before its body: the title, the authors, and the
    abstract under an "Abstract" heading (in capitals one time in three);
    only the heading is a heading."""
    rng = numpy.random.default_rng(seed)
    width = int(rng.integers(60, 110))
    blocks = []
    if title:
        blocks.append(PrintedBlock("other", tuple(pdf_layout.wrap(title, width)[0])))
    blocks.append(PrintedBlock("other", tuple(pdf_layout.wrap(_authors_line(rng), width)[0])))
    if abstract:
        blocks.append(PrintedBlock("heading", ("ABSTRACT" if rng.random() < 1 / 3 else "Abstract",)))
        blocks.append(PrintedBlock("paragraph", tuple(pdf_layout.wrap(abstract, width)[0])))
    return blocks


def _column_width(blocks: List[PrintedBlock]) -> int:
    """The width the paper's paragraphs were wrapped at: the 90th percentile of their lines' lengths."""
    lengths = [len(line) for block in blocks if block.kind == "paragraph" for line in block.lines]
    return int(numpy.percentile(lengths, 90)) if lengths else 80


def _references(meta: Dict, record: Optional[Dict]) -> List[references.Reference]:
    """The reference list of a reader doc's source (its unArXive ``record`` when given)."""
    if record is not None:
        return references.unarxive_references(record)
    fmt, source = str(meta.get("format") or ""), meta.get("source")
    if not source:
        return []
    if fmt == "jats":
        return references.jats_references(source)
    if fmt == "s2orc":
        return references.s2orc_references(source)
    return []


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
        record = records.get(str(meta["id"]), {}) if records is not None else None
        if record is not None:
            floats = pdf_layout.unarxive_floats(record)
        elif str(meta.get("format")) == "jats":
            floats = pdf_layout.jats_floats(meta["source"])
        else:
            floats = []
        seed = pdf_layout.paper_seed(name, 0, layout_seed)
        blocks = pdf_layout.lay_out_blocks(pdf_layout.reader_blocks(doc), seed, floats=floats)
        if zlib.crc32(name.encode("utf-8")) % 5:
            blocks = front_matter(str(meta.get("title") or ""), str(meta.get("abstract") or ""), seed) + blocks
        # Drawn with its own seed, so that the body keeps the layout it had before reference lists came.
        if zlib.crc32(f"{name}\treferences".encode("utf-8")) % 5:
            blocks += references.reference_blocks(_references(meta, record), pdf_layout.paper_seed(name, 7, layout_seed),
                                                   _column_width(blocks))
        if any(block.kind == "heading" for block in blocks):
            yield PrintedPaper(source, name, blocks)
