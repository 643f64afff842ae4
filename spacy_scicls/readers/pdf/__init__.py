"""PDF papers: text in reading order, sections from the layout and the text (see docs/pdf.md).

>>> doc = read_paper("paper.pdf", nlp)     # spacy_scicls.readers.read_paper finds the format

:func:`read_pdf` fills a :class:`~spacy_scicls.readers._build.Paper` from a
PDF's bytes; :class:`Limits` bounds the pages, characters, time and
inflated stream size spent on one file; :class:`PdfError` says what is
wrong with a PDF that cannot be read (encrypted, corrupt, no text layer,
too long, a decompression bomb).
"""
from .extract import Limits, PdfError
from .reader import read_pdf

__all__ = ["Limits", "PdfError", "read_pdf"]
