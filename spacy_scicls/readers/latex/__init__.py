"""LaTeX papers: a ``.tex`` file, a folder of sources, or arXiv's e-print (a gzipped tar or ``.tex``).

>>> doc = read_paper("main.tex", nlp)        # its \\input files from its folder
>>> doc = read_paper("2212.11885", nlp)      # arXiv's e-print, as downloaded

:mod:`.source` finds the paper's file in a source and resolves its includes
(bounded by :class:`Limits`); :mod:`.markup` turns the LaTeX into the text a
reader sees, with its sections marked; :mod:`.reader` fills a
:class:`~spacy_scicls.readers._build.Paper`. What is read and what is left out:
docs/annotate.md ("LaTeX sources").
"""
from .reader import is_tar, read_latex, read_latex_archive, read_latex_bytes
from .source import EncodingError, Limits, SourceError, looks_like_latex

__all__ = ["EncodingError", "Limits", "SourceError", "is_tar", "looks_like_latex", "read_latex", "read_latex_archive",
           "read_latex_bytes"]
