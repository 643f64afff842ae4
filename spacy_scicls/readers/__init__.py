"""Readers: a paper, in whatever form a user has it, as a spaCy ``Doc``.

>>> doc = read_paper("paper.xml", nlp)             # format from the name and first bytes
>>> doc = read_paper(tei_bytes, nlp, format="tei", name="smith2020")
>>> [(s._.heading, s.label_) for s in doc.spans["sections"]]

Formats (:data:`FORMATS`): ``jats`` (JATS/NLM XML: PLOS, PMC), ``tei``
(GROBID TEI XML), ``s2orc`` (S2ORC / doc2json JSON), ``unarxive`` (unarXive
JSON), ``pdf`` (a PDF with a text layer: :mod:`spacy_scicls.readers.pdf`),
``latex`` (a ``.tex`` file with the files it inputs from its folder, or a
source archive such as arXiv's e-print: :mod:`spacy_scicls.readers.latex`),
``html`` (a paper's web page: arXiv's LaTeXML pages, PubMed Central,
publishers, hand-written pages: :mod:`spacy_scicls.readers.html_page`),
``markdown`` and ``text`` (plain text, e.g. from a PDF-to-text tool); any of
them gzipped (``paper.nxml.gz``), read as the file it holds.

The structured formats give a ``Doc`` whose text is the title, the abstract
(under an "Abstract" heading) and the body, each heading on its own line,
and whose ``doc.spans["sections"]`` holds one span per section in reading
order (sub-sections are spans of their own, ``span._.section_level`` 2 and
deeper), each starting at its heading line, ``span._.heading`` the heading
text. A span's label is the section's IMRaD role where the format states it
(JATS ``sec-type``, back matter), else ``"unlabelled"``, which the
``scicls_sections`` component replaces. A ``text`` paper is taken as it is,
except that pages set as two columns side by side (``pdftotext -layout``)
are read column by column (:mod:`spacy_scicls.readers.text_columns`;
``doc._.scicls_meta["columns_split"]`` lists those pages and how many lines
held both columns) and the fonts' ligatures ("ﬁ") and TeX's separate
accents ("Lemaˆıtre") are written as letters
(:mod:`spacy_scicls.readers.text_glyphs`; counted in
``doc._.scicls_meta["glyphs_normalised"]``): no spans; the
``scicls_sections`` component finds its headings. What the reader learnt
about the paper is in ``doc._.scicls_meta``.

XML is parsed safely (see :mod:`spacy_scicls.readers._safe_xml`): entity
declarations are refused and external DTDs and entities are never fetched.
Every problem with an input raises :class:`ReaderError`, a ``ValueError``
whose message names the file (or ``name``) and what is wrong.
"""
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Union
from xml.parsers.expat import ExpatError

from spacy.language import Language
from spacy.tokens import Doc

from ._build import UNLABELLED, Paper, paper_to_doc
from ._safe_xml import UnsafeXMLError, parse_xml
from .jats import read_jats
from .json_formats import read_s2orc, read_unarxive
from .markdown import read_markdown
from .tei import read_tei
from .html_page import html_doc
from .html_tree import starts_like_html

FORMATS = ("jats", "tei", "s2orc", "unarxive", "markdown", "text", "pdf", "latex", "html")
XML_FORMATS = ("jats", "tei")
JSON_FORMATS = ("s2orc", "unarxive")

Source = Union[str, bytes, os.PathLike, Dict[str, Any]]


class ReaderError(ValueError):
    """A paper could not be read; the message names the file and the problem."""


_EXTENSIONS = {
    ".nxml": "jats",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".pdf": "pdf",
    ".tex": "latex",
    ".ltx": "latex",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
#: A page without doctype or <html> tag still shows its <head> or <body> early on.
_HTML_PARTS = re.compile(r"<head[\s>]|<body[\s>]")


def detect_format(path: Union[str, os.PathLike, None] = None, head: bytes = b"") -> str:
    """The format of a file, from its name and its first bytes.

    A file that starts with ``%PDF-`` is a PDF whatever its name says;
    ``.tei.xml`` is TEI, ``.nxml`` JATS, ``.md`` Markdown, ``.txt`` text,
    ``.pdf`` PDF, ``.tex`` LaTeX, ``.html``/``.htm``/``.xhtml`` HTML, and a file that starts with an
    HTML doctype or ``<html>`` tag is HTML whatever its name says; a tar archive or LaTeX's first
    bytes (``\\documentclass``: arXiv's e-prints have no ending) are LaTeX; for other ``.xml`` files
    and JSON the first bytes decide (a ``<TEI`` root or the TEI namespace, a JATS ``<article``,
    an HTML ``<head>`` or ``<body>``; unarXive's ``sec_type``/``discipline`` keys). Raises :class:`ReaderError` when
    neither tells.
    """
    name = str(path or "")
    lower = name.lower()
    head = head or b""
    sniff = head[:4096].decode("utf-8", errors="replace")
    sniff_lower = sniff.lower()
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"%PDF-":
        return "pdf"
    if starts_like_html(head):
        return "html"
    if lower.endswith((".tei.xml", ".tei")):
        return "tei"
    suffix = Path(lower).suffix
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if _latex_head(head, suffix):
        return "latex"
    stripped = sniff.lstrip("\ufeff \t\r\n")
    if suffix == ".xml" or stripped.startswith("<"):
        if "<tei" in sniff_lower or "tei-c.org" in sniff_lower:
            return "tei"
        if "<article" in sniff_lower or "jats" in sniff_lower or "-//nlm//" in sniff_lower:
            return "jats"
        if _HTML_PARTS.search(sniff_lower):
            return "html"
        raise ReaderError(f"{name or 'input'}: XML, but neither JATS (<article>) nor TEI (<TEI>) as far as its first bytes tell")
    if suffix in (".json", ".jsonl") or stripped.startswith("{"):
        if any(key in sniff for key in ('"sec_type"', '"discipline"', '"sec_number"', '"content_type"')):
            return "unarxive"
        return "s2orc"
    if stripped.startswith("#"):
        return "markdown"
    if suffix == "" and stripped:
        return "text"
    raise ReaderError(f"{name or 'input'}: cannot tell the format from the name or the first bytes; pass format=")


#: Endings that make a one-line str a file name rather than a paper's text.
_FILE_SUFFIXES = (".xml", ".nxml", ".tei", ".json", ".jsonl", ".md", ".markdown", ".txt", ".text", ".gz",
                  ".tex", ".html", ".htm", ".xhtml")
TOO_DEEP = "nested too deeply to read"


def _names_a_file(source: str) -> bool:
    """Whether a str is meant as a file name: one short line, ending like a paper file, not content."""
    if "\n" in source or len(source) >= 4096:
        return False
    if os.path.isfile(source):
        return True
    return (
        source == source.strip()
        and Path(source).suffix.lower() in _FILE_SUFFIXES
        and not source.startswith(("<", "{", "[", "#"))
    )


def _load(source: Source, name: Optional[str]):
    """(content: bytes | dict, display name, file path or None)."""
    if isinstance(source, dict):
        return source, name or str(source.get("paper_id") or "record"), None
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), name or "input", None
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _names_a_file(source)):
        path = Path(source)
        try:
            return path.read_bytes(), name or str(path), path
        except OSError as err:
            raise ReaderError(f"{name or path}: cannot be read ({err.strerror or err})") from err
    if isinstance(source, str):
        return source.encode("utf-8"), name or "input", None
    raise ReaderError(f"{name or 'input'}: a paper is a path, str, bytes or dict, not {type(source).__name__}")


GZIP_MAGIC = b"\x1f\x8b"
#: The most a gzipped paper may inflate to (a small file that inflates to gigabytes is refused).
MAX_INFLATED_BYTES = 256 * 1024 * 1024


def _gunzip(data: bytes, name: str) -> bytes:
    import gzip
    import io
    import zlib

    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as file:
            out = file.read(MAX_INFLATED_BYTES + 1)
    except (OSError, EOFError, zlib.error) as err:
        raise ReaderError(f"{name}: damaged gzip file ({err or type(err).__name__})") from None
    if len(out) > MAX_INFLATED_BYTES:
        raise ReaderError(f"{name}: inflates to more than {MAX_INFLATED_BYTES:,} bytes")
    return out


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ReaderError(f"{name}: is not UTF-8 text (byte {err.start})") from err


def _json_records(data: bytes, name: str) -> list:
    text = _decode(data, name).strip()
    if not text:
        raise ReaderError(f"{name}: is empty")
    try:
        value = json.loads(text)
        return value if isinstance(value, list) else [value]
    except RecursionError:
        raise ReaderError(f"{name}: malformed JSON: {TOO_DEEP}") from None
    except json.JSONDecodeError as whole:
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                if number == 1:
                    err = whole
                raise ReaderError(f"{name}: malformed JSON at line {err.lineno if number == 1 else number}, "
                                  f"column {err.colno}: {err.msg}") from err
        return records


def _paper(record_or_text: Any, fmt: str, name: str, nlp: Language) -> Doc:
    paper = Paper(format=fmt, source=name)
    try:
        if fmt == "jats":
            read_jats(record_or_text, paper)
        elif fmt == "tei":
            read_tei(record_or_text, paper)
        elif fmt == "s2orc":
            read_s2orc(record_or_text, paper)
        elif fmt == "unarxive":
            read_unarxive(record_or_text, paper)
        elif fmt == "markdown":
            read_markdown(record_or_text, paper)
    except ReaderError:
        raise
    except RecursionError:
        raise ReaderError(f"{name}: {TOO_DEEP}") from None
    except (ValueError, TypeError, AttributeError) as err:
        raise ReaderError(f"{name}: {err}") from err
    return _named(paper_to_doc, name, paper, nlp)


def _named(function, name: str, *args) -> Doc:
    """``function(*args)``, with any error of spaCy's (e.g. E088, a text over ``nlp.max_length``)
    raised as a :class:`ReaderError` that names the paper."""
    try:
        return function(*args)
    except ReaderError:
        raise
    except RecursionError:
        raise ReaderError(f"{name}: {TOO_DEEP}") from None
    except (ValueError, TypeError) as err:
        raise ReaderError(f"{name}: {err}") from err


def _check_format(fmt: str, name: str) -> str:
    if fmt not in FORMATS:
        raise ReaderError(f"{name}: unknown format {fmt!r}; formats are {', '.join(FORMATS)}")
    return fmt


def read_papers(source: Source, nlp: Language, *, format: Optional[str] = None, name: Optional[str] = None) -> Iterator[Doc]:
    """Every paper of ``source``: one for most files, one per record of a JSON Lines (or JSON list) file."""
    content, display, path = _load(source, name)
    if isinstance(content, dict):
        fmt = _check_format(format or ("unarxive" if "discipline" in content or _has_sec_type(content) else "s2orc"), display)
        if fmt not in JSON_FORMATS:
            raise ReaderError(f"{display}: a parsed JSON record can only be read as {' or '.join(JSON_FORMATS)}, not {fmt}")
        yield _paper(content, fmt, display, nlp)
        return
    named = path if path is not None else (name if name else None)
    if content[:2] == GZIP_MAGIC:  # a gzipped paper (PMC's .nxml.gz): read as the file it holds
        content = _gunzip(content, display)
        if named is not None and str(named).lower().endswith(".gz"):
            named = str(named)[:-3]
    fmt = _check_format(format or detect_format(named, content[:4096]), display)
    if fmt == "text":
        yield _named(_text_doc, display, _decode(content, display), display, nlp)
    elif fmt == "pdf":
        yield _named(_pdf_doc, display, content, display, nlp)
    elif fmt == "latex":
        yield _named(_latex_doc, display, content, path, display, nlp)
    elif fmt == "markdown":
        yield _paper(_decode(content, display), fmt, display, nlp)
    elif fmt == "html":
        yield _named(html_doc, display, content, display, nlp)
    elif fmt in XML_FORMATS:
        if not content.strip():
            raise ReaderError(f"{display}: is empty")
        try:
            root = parse_xml(content)
        except UnsafeXMLError as err:
            raise ReaderError(f"{display}: unsafe XML refused: the document {err}") from err
        except ExpatError as err:
            raise ReaderError(f"{display}: malformed XML: {err}") from err
        except RecursionError:
            raise ReaderError(f"{display}: {TOO_DEEP}") from None
        yield _paper(root, fmt, display, nlp)
    else:
        records = _json_records(content, display)
        for i, record in enumerate(records):
            record_name = display if len(records) == 1 else f"{display} (record {i + 1})"
            if not isinstance(record, dict):
                raise ReaderError(f"{record_name}: is a JSON {type(record).__name__}, not an object")
            yield _paper(record, fmt, record_name, nlp)


def read_paper(source: Source, nlp: Language, *, format: Optional[str] = None, name: Optional[str] = None) -> Doc:
    """One paper as a ``Doc``.

    ``source`` is a path, the file's content (str or bytes), or for
    ``s2orc``/``unarxive`` an already parsed JSON record (dict); ``nlp``
    gives the tokenizer (``nlp.make_doc``); ``format`` is one of
    :data:`FORMATS` (detected from the name and the first bytes if not
    given); ``name`` names the paper in error messages and in
    ``doc._.scicls_meta["source"]``. A JSON Lines file holding several
    papers is an error here: read it with :func:`read_papers`.
    """
    docs = read_papers(source, nlp, format=format, name=name)
    first = next(docs, None)
    if first is None:
        raise ReaderError(f"{name or source!s}: holds no paper")
    if next(docs, None) is not None:
        raise ReaderError(f"{_load(source, name)[1]}: holds several papers; read them with read_papers")
    return first


def _has_sec_type(record: Dict) -> bool:
    body = record.get("body_text")
    return isinstance(body, list) and bool(body) and isinstance(body[0], dict) and "sec_type" in body[0]


def _pdf_doc(data: bytes, name: str, nlp: Language) -> Doc:
    from .pdf import PdfError, read_pdf

    paper = Paper(format="pdf", source=name)
    try:
        read_pdf(data, paper)
    except PdfError as err:
        raise ReaderError(f"{name}: {err}") from err
    except (ValueError, TypeError, AttributeError, IndexError, KeyError, ZeroDivisionError) as err:
        raise ReaderError(f"{name}: cannot read the PDF ({type(err).__name__}: {err})") from err
    return paper_to_doc(paper, nlp)


def _latex_head(head: bytes, suffix: str) -> bool:
    """A LaTeX source whose name does not say so: a tar archive (arXiv's e-print) or LaTeX's first bytes."""
    from .latex import is_tar, looks_like_latex

    return is_tar(head) or (suffix not in (".xml", ".json", ".jsonl") and looks_like_latex(head))


def _latex_doc(data: bytes, path: Optional[Path], name: str, nlp: Language) -> Doc:
    from .latex import SourceError, read_latex_bytes

    paper = Paper(format="latex", source=name)
    try:
        read_latex_bytes(data, paper, path=path)
    except SourceError as err:
        raise ReaderError(f"{name}: {err}") from err
    except (IndexError, KeyError, AttributeError) as err:
        raise ReaderError(f"{name}: cannot read the LaTeX ({type(err).__name__}: {err})") from err
    return paper_to_doc(paper, nlp)


def _text_doc(text: str, name: str, nlp: Language) -> Doc:
    from ..extensions import install_extensions
    from .text_columns import read_columns
    from .text_glyphs import normalise_glyphs

    install_extensions()
    # Pages that a layout-keeping tool printed as two columns side by side are read column by column,
    # then the fonts' ligatures and TeX's separate accents are written as letters; the doc's text is
    # the result, and the meta says what was rewritten.
    columns = read_columns(text)
    glyphs = normalise_glyphs(columns.text)
    doc = nlp.make_doc(glyphs.text)
    doc._.scicls_meta = {"id": None, "title": None, "abstract": None, "categories": [], "format": "text", "source": name,
                         "columns_split": columns.meta(), "glyphs_normalised": glyphs.meta()}
    return doc


__all__ = ["FORMATS", "ReaderError", "UNLABELLED", "detect_format", "read_paper", "read_papers"]
