"""Readers that turn public labelled data sets into gold spaCy docs.

One module per kind of annotation: :mod:`.categories` (arXiv and HRCS records
with doc.cats), :mod:`.sections` and :mod:`.papers` (paper collections with
silver IMRaD labels), :mod:`.entities` and :mod:`.climateie` (entity corpora
with a counted character-offset alignment policy).
"""
from .categories import (
    CategoryRecord,
    read_arxiv_2007,
    read_arxiv_ml,
    read_category_corpora,
    read_hrcs_nihr,
    records_to_docs,
    split_records,
)

__all__ = [
    "CategoryRecord",
    "read_arxiv_2007",
    "read_arxiv_ml",
    "read_category_corpora",
    "read_hrcs_nihr",
    "records_to_docs",
    "split_records",
]
