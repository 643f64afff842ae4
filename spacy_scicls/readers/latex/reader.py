"""A paper's LaTeX source into a :class:`~spacy_scicls.readers._build.Paper`."""
import re
from pathlib import Path
from typing import List, Optional

from .._build import Paper, clean
from . import source as sources
from .markup import PAR, Renderer, split_marks
from .source import LatexSource, Limits, SourceError

_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_BIBLIOGRAPHY = re.compile(r"\\(?:bibliography\s*\{[^{}]*\}|printbibliography\b(?:\s*\[[^\]]*\])?)")
# Headings that hold the abstract when an author writes it as a section.
_ABSTRACT_HEADINGS = {"abstract", "summary"}


def read_latex(source: LatexSource, paper: Paper, limits: Optional[Limits] = None, main: Optional[str] = None) -> Paper:
    """Fill ``paper`` from ``source``: title, abstract, sections (``\\section`` to ``\\subparagraph``,
    starred or not; after ``\\appendix`` labelled ``other``), the bibliography as a "References" section,
    captions and what was left out in ``paper.extra``. ``main``: the paper's file (default: the file with
    ``\\documentclass`` and ``\\begin{document}``, :func:`~.source.choose_main`)."""
    limits = limits or Limits()
    main, other_mains = (main, []) if main else sources.choose_main(source)
    text, notes = sources.expand(source, main, limits)
    if "thebibliography" not in text and _BIBLIOGRAPHY.search(text):
        bbl = sources.bibliography_text(source, main, text)
        if bbl is None:
            notes.append("no .bbl file: the bibliography is not read (run BibTeX and add the .bbl)")
        elif "thebibliography" not in bbl:
            notes.append("the .bbl holds no thebibliography (biblatex?): the bibliography is not read")
        else:
            text = _BIBLIOGRAPHY.sub(lambda _: bbl, text, count=1)
            text = _BIBLIOGRAPHY.sub(" ", text)
    begin = _BEGIN_DOCUMENT.search(text)
    preamble, body = (text[:begin.start()], text[begin.end():]) if begin else ("", text)
    end = _END_DOCUMENT.search(body)
    if end:
        body = body[:end.start()]
    renderer = Renderer()
    renderer.render(preamble)  # the author's macros, and a title or abstract given there
    rendered = renderer.render(body)
    _fill(paper, renderer, rendered)
    if not (paper.title or paper.abstract or any(s.paragraphs or s.heading for s in paper.sections)):
        raise SourceError(f"{main}: holds no text" + ("" if begin else " (and no \\begin{document})"))
    paper.extra["captions"] = renderer.captions
    paper.extra["references"] = renderer.references
    paper.extra["latex"] = {
        "main_file": main,
        "fragment": begin is None,
        "other_main_files": other_mains,
        "notes": source.notes + notes + renderer.notes,
    }
    return paper


def _paragraphs(text: str) -> List[str]:
    return [p for p in (clean(part) for part in text.split(PAR)) if p]


def _fill(paper: Paper, renderer: Renderer, rendered: str) -> None:
    paper.title = renderer.title
    paper.abstract = [p for part in renderer.abstract for p in _paragraphs(part)]
    chunks = split_marks(rendered)
    levels = [m[0] for m, _ in chunks if m is not None and m[0] is not None]
    top = min(levels, default=2)
    for index, (heading_mark, text) in enumerate(chunks):
        paragraphs = _paragraphs(text)
        if heading_mark is None:
            for paragraph in paragraphs:
                paper.add_paragraph(paragraph)
            continue
        level, label, heading = heading_mark
        if not paper.abstract and not paper.sections and clean(heading).lower().rstrip(".:") in _ABSTRACT_HEADINGS:
            paper.abstract = paragraphs  # \section*{Abstract}: the abstract, as the other formats give it
            continue
        paper.add_section(heading or None, 1 if level is None else max(1, level - top + 1), label)
        for paragraph in paragraphs:
            paper.add_paragraph(paragraph)


def read_latex_bytes(data: bytes, paper: Paper, *, path: Optional[Path] = None, limits: Optional[Limits] = None,
                     encoding: Optional[str] = None) -> Paper:
    """A source from its bytes: a tar archive (inflated), or one ``.tex`` file; given the file's ``path``,
    its includes are read from its folder."""
    limits = limits or Limits()
    name = paper.source or "input"
    if is_tar(data):
        return read_latex(sources.from_tar(data, name, limits, encoding), paper, limits)
    if len(data) > limits.max_file_bytes:
        raise SourceError(f"{len(data):,} bytes, more than {limits.max_file_bytes:,} for one .tex file")
    text = sources.decode_tex(data, None, encoding)
    if not text.strip():
        raise SourceError("is empty")
    if path is not None:
        main = Path(path)
        file_name = main.name[:-3] if main.name.lower().endswith(".gz") else main.name
        return read_latex(sources.from_folder(main.parent, file_name, text, limits, encoding), paper, limits, file_name)
    return read_latex(sources.from_text(text), paper, limits, "paper.tex")


def read_latex_archive(path: Path, paper: Paper, *, limits: Optional[Limits] = None,
                       encoding: Optional[str] = None) -> Paper:
    """A source in a tar archive on disk (gzipped or not), read as a stream: figures are never read."""
    limits = limits or Limits()
    return read_latex(sources.from_tar(Path(path), paper.source or str(path), limits, encoding), paper, limits)


def is_tar(head: bytes) -> bool:
    return head[257:262] == b"ustar"
