"""Readers that turn public labelled data sets into gold spaCy docs."""
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
