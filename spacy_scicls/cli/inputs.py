"""What ``scicls annotate`` reads: files, folders and globs, turned into records in a fixed order.

A record is one document to annotate: a paper file, one line of a JSONL file,
one row of a CSV file. Records are made lazily: :class:`Record` carries its id
(cheap: a file name, or the id field of a line) and a ``load`` function that
reads the content when it is needed, so that ``--resume`` can skip what is
already done without reading it again. ``load`` raises :class:`RecordError`
(or any exception) for a record that cannot be read; the caller turns that into
an error record and goes on.

One function per format: :func:`iter_paper_file` (text, Markdown and the
structured paper formats), :func:`iter_jsonl_records` (JSONL of records, or of
S2ORC/unarXive papers) and :func:`iter_csv_records`.
"""
import codecs
import csv
import glob
import io
import json
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc

from .. import readers
from ..readers.html_tree import starts_like_html

from .compressed import READ_ERRORS, TooLarge, content_name, is_tar, open_binary, read_limited
from .record_fields import id_fields, text_fields
from .formats import INPUT_FORMATS, PAPER_FORMATS, RECORD_FORMATS  # noqa: F401 (re-exported)

#: File name endings picked up when a folder is given (other files are skipped and counted).
SUFFIXES = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".xml": None,  # JATS or TEI: decided by the content
    ".nxml": "jats",
    ".tei": "tei",
    ".json": None,  # S2ORC or unarXive paper, or one record
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".pdf": "pdf",
    ".tex": "latex",  # a paper when it has \documentclass; in a folder, the others are its parts (latex_input.py)
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".gz": None,  # gzip: the format of what it holds (compressed.py)
    ".tgz": None,  # a tar archive: its papers (archive_input.py)
    ".tar": None,
}
#: Why a JSON value nested deeper than Python's parser goes is refused.
TOO_DEEP = "nested too deeply to read"
#: The largest PDF file read (its images count, not only its text).
PDF_MAX_BYTES = 256 * 1024 * 1024
#: The largest HTML page read: markup (MathML above all) makes a page many times its text.
HTML_MAX_BYTES = 64 * 1024 * 1024
# Without --text-columns and --id-column, a record's text and id fields are found by their
# names, as the usual exports spell them (record_fields.py).
#: How title and abstract (or any text columns) are joined into one document:
#: each column a paragraph of its own, the title first, as a paper begins. The
#: category heads and the seed-model adapters (``spacy_scicls.title_and_abstract.v1``)
#: read a doc's first line as its title and the rest as its abstract, so every
#: column but the last is put on one line.
FIELD_SEPARATOR = "\n\n"


class RecordError(ValueError):
    """A record that cannot be read; the message says why (it goes into the output's ``error``)."""


class InputError(ValueError):
    """The inputs as a whole cannot be used (a missing file, a CSV without the asked column)."""


Content = Union[str, Doc]


@dataclass
class Record:
    id: str
    load: Callable[[Language], Content]
    source: str  # file name (and line or row), for messages


def _error_loader(message: str) -> Callable[[Language], Content]:
    def load(nlp: Language) -> Content:
        raise RecordError(message)

    return load


# --- decoding and checks -----------------------------------------------------------------


#: What to do with text in another encoding (the records say it, once per record).
RECODE_HINT = (
    "pass --encoding cp1252 (or the file's encoding), or save it as UTF-8: Excel's 'CSV UTF-8', "
    "or iconv -f cp1252 -t utf-8"
)
#: The byte-order marks of UTF-16 (Excel's "Unicode Text"): such a file is named, not taken for binary.
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF16_MESSAGE = "UTF-16 text: the file starts with a UTF-16 byte-order mark; save it as UTF-8 (Excel: 'CSV UTF-8')"
UTF8_BOM = "\ufeff"


def check_encoding(name: Optional[str]) -> Optional[str]:
    """``--encoding``: Python's name of the encoding (``latin-1`` -> ``iso8859-1``), None for UTF-8
    (the default); :class:`InputError` for an unknown one or one that does not write ASCII as ASCII
    (UTF-16, UTF-32: line breaks, commas and quotes would not be the bytes the readers split on)."""
    if not name:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise InputError(f"--encoding {name}: unknown encoding (e.g. cp1252, latin-1, utf-8)") from None
    ascii_bytes = bytes(range(128))
    try:
        ascii_compatible = getattr(info, "_is_text_encoding", True) and info.encode(ascii_bytes.decode("ascii"))[0] == ascii_bytes
    except (UnicodeError, TypeError):
        ascii_compatible = False
    if not ascii_compatible:
        raise InputError(
            f"--encoding {name}: only encodings that write ASCII characters as ASCII bytes are read "
            "(cp1252, latin-1, iso-8859-15, shift_jis, ...); convert UTF-16 or UTF-32 files to UTF-8"
        )
    return None if info.name == "utf-8" else info.name


def decode_text(data: bytes, encoding: Optional[str] = None) -> str:
    """UTF-8 text exactly as stored (line endings and byte-order mark kept), or :class:`RecordError`.

    Bytes that are not text at all (NUL bytes, mostly control characters: a binary file under a
    text file's name) are ``binary content``; other bytes that are not UTF-8 are text in another
    encoding (Latin-1, Windows-1252): decoded in ``encoding`` (``--encoding``) when one is given,
    else an error that says how to read or convert it. Text that is valid UTF-8 is always read as
    UTF-8, so that a folder holding both UTF-8 and Windows-1252 files is read right.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if data.startswith(UTF16_BOMS):
            raise RecordError(UTF16_MESSAGE) from None
        if _looks_binary(data[:4096]):
            raise RecordError("binary content: the file is not text") from None
        if encoding is not None:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as other:
                raise RecordError(
                    f"not UTF-8 or {encoding} text: byte 0x{data[other.start]:02x} at offset {other.start} "
                    f"is neither (is --encoding {encoding} the file's encoding?)"
                ) from None
        raise RecordError(
            f"not UTF-8 text: invalid byte 0x{data[err.start]:02x} at offset {err.start} "
            f"(another encoding, such as Latin-1 or Windows-1252? {RECODE_HINT})"
        ) from None


def recode_field(value: str, encoding: Optional[str]) -> str:
    """A CSV field read as UTF-8 with its undecodable bytes kept as surrogates (surrogateescape),
    decoded in ``encoding`` from its bytes; :class:`RecordError` when that cannot be."""
    if not _has_surrogates(value):
        return value
    if encoding is None:
        raise RecordError(f"not UTF-8 text: a byte of another encoding ({RECODE_HINT})")
    data = value.encode("utf-8", "surrogateescape")
    try:
        return data.decode(encoding)
    except UnicodeError:
        raise RecordError(
            f"not UTF-8 or {encoding} text: a byte that is neither (is --encoding {encoding} the file's encoding?)"
        ) from None


def _without_bom(text: str) -> str:
    return text[1:] if text.startswith(UTF8_BOM) else text


def _looks_binary(sample: bytes) -> bool:
    control = sum(1 for byte in sample if byte < 0x20 and byte not in b"\t\n\r\f\v")
    return b"\x00" in sample or control > max(8, len(sample) // 20)


def check_text(text: str, max_chars: int) -> None:
    """Raise :class:`RecordError` for text that no pipeline should be given."""
    if not text.strip():
        raise RecordError("empty text")
    if len(text) > max_chars:
        raise RecordError(
            f"text too long: {len(text):,} characters, more than --max-chars {max_chars:,}"
        )
    if _has_surrogates(text):
        # From a \udXXX escape in JSON: no UTF-8 form, so no tokenizer or output can take it.
        bad = next(ch for ch in text if "\ud800" <= ch <= "\udfff")
        raise RecordError(f"invalid Unicode: the text holds a lone surrogate ({ascii(bad)[1:-1]})")
    sample = text[:4096]
    if "\x00" in sample:
        raise RecordError("binary content: text contains NUL bytes")
    control = sum(1 for ch in sample if ch < " " and ch not in "\t\n\r\f\v")
    if control > max(8, len(sample) // 20):
        raise RecordError("binary content: text is mostly control characters")


_TEXT_TOO_LONG = "text too long: {}, more than --max-chars allows"


def _read_bytes(path: Path, max_bytes: int, too_large: str = _TEXT_TOO_LONG) -> bytes:
    """The file's bytes (inflated when it is gzip), at most ``max_bytes``; past them a record
    error ``too_large`` with the reader's reason in its ``{}``."""
    try:
        return read_limited(path, max_bytes)
    except TooLarge as err:
        raise RecordError(too_large.format(err)) from None
    except READ_ERRORS as err:
        raise _unreadable(err) from None


def _unreadable(err: BaseException) -> RecordError:
    """A file that cannot be read, or a gzip file that is damaged or cut off."""
    if isinstance(err, OSError) and err.strerror:
        return RecordError(f"cannot read file: {err.strerror}")
    return RecordError(f"cannot read file: {err or type(err).__name__}")


# --- format detection --------------------------------------------------------------------


def _head(path: Path, n: int = 4096) -> bytes:
    """The first ``n`` bytes of the content (inflated, for gzip)."""
    try:
        with open_binary(path) as file:
            return file.read(n)
    except (EOFError, zlib.error) as err:
        raise RecordError(f"cannot read file: {err or type(err).__name__}") from None


def _is_paper_record(obj: object) -> bool:
    """An S2ORC or unarXive paper (its body as a list of paragraphs), rather than a record with a text field."""
    if not isinstance(obj, dict):
        return False
    parses = [obj] + [obj.get(k) for k in ("pdf_parse", "latex_parse", "grobid_parse")]
    return any(isinstance(p, dict) and isinstance(p.get("body_text"), list) for p in parses)


def _paper_json_format(path: Path, head: bytes, obj: Dict) -> str:
    try:
        return readers.detect_format(path, head)
    except readers.ReaderError:
        pass
    body = obj.get("body_text") or [{}]
    return "unarxive" if "discipline" in obj or (isinstance(body[0], dict) and "sec_type" in body[0]) else "s2orc"


def detect_input_format(path: Path) -> Optional[str]:
    """The format of ``path`` from its name, and from its first bytes where the name does not say.

    ``.jsonl`` and ``.json`` files hold records (``jsonl``) unless their first
    record is a paper with a ``body_text`` list (``s2orc`` or ``unarxive``);
    ``.xml`` is JATS or TEI by its first bytes; a tar archive is ``tar``.
    Raises :class:`RecordError` for a file whose format neither tells.
    """
    head = _head(path)
    return content_format(content_name(path), head, lambda: _read_bytes(path, 1 << 30))


def content_format(name: str, head: bytes, whole: Callable[[], bytes]) -> Optional[str]:
    """The format of content named ``name`` (without ``.gz``) whose first bytes are ``head``;
    ``whole()`` gives all of it, read only for a ``.json`` file whose first line does not parse."""
    inner = Path(name)
    suffix = inner.suffix.lower()
    if is_tar(head, inner.name):
        return "tar"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:5] == b"%PDF-":
        return "pdf"  # a PDF whatever its name says
    if starts_like_html(head):
        return "html"  # an HTML page whatever its name says
    if suffix == ".pdf":
        if b"%PDF-" in head[:1024]:  # the header may follow some junk bytes
            return "pdf"
        raise RecordError("not a PDF: the file does not start with %PDF-")
    if inner.name.lower().endswith(".tei.xml"):
        return "tei"
    if suffix in SUFFIXES and SUFFIXES[suffix] not in (None, "jsonl"):
        return SUFFIXES[suffix]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        try:
            return readers.detect_format(inner, head)
        except readers.ReaderError as err:
            raise RecordError(f"unknown input format: {err}") from None
    if stripped.startswith((b"{", b"[")):
        first_line = stripped.split(b"\n", 1)[0]
        try:
            obj = json.loads(first_line)
        except (ValueError, RecursionError):
            if suffix != ".json":
                return "jsonl"  # a malformed first line: an error record, the others go on
            try:
                obj = json.loads(whole())
            except UnicodeDecodeError:
                return "jsonl"  # records in another encoding: their reader decodes them (--encoding)
            except ValueError as err:
                raise RecordError(f"malformed JSON: {err}") from None
            except RecursionError:
                raise RecordError(f"malformed JSON: {TOO_DEEP}") from None
        if isinstance(obj, list):
            obj = obj[0] if obj else {}
        return _paper_json_format(inner, head, obj) if _is_paper_record(obj) else "jsonl"
    if suffix in (".xml", ".json"):
        return "jats" if suffix == ".xml" else "jsonl"  # its reader says what is wrong with it
    if suffix in SUFFIXES and SUFFIXES[suffix]:
        return SUFFIXES[suffix]
    from ..readers.latex import looks_like_latex

    if looks_like_latex(head):  # arXiv's e-print of one .tex file, named like 2212.11885
        return "latex"
    return None


# --- expanding the inputs ----------------------------------------------------------------


def expand_inputs(inputs: Sequence[str], exclude: Sequence[Path] = ()) -> Tuple[List[Path], List[Path]]:
    """Files to read, in order, and files skipped in folders (unknown endings).

    A folder gives its files (recursively, sorted by relative path, hidden files
    left out) whose ending is known; a glob gives its matches, sorted; a file is
    taken as it is, whatever its name. Files in ``exclude`` (the output, and
    anything under an excluded folder) are left out, so that an output written
    into an input folder is never read back as input.
    """
    files, skipped = _expand(inputs)
    if exclude:
        excluded = [Path(os.path.realpath(p)) for p in exclude]

        def keep(path: Path) -> bool:
            resolved = Path(os.path.realpath(path))  # realpath, unlike resolve, takes a link loop as it is
            return not any(resolved == e or e in resolved.parents for e in excluded)

        files = [p for p in files if keep(p)]
        skipped = [p for p in skipped if keep(p)]
    return files, skipped


def _expand(inputs: Sequence[str]) -> Tuple[List[Path], List[Path]]:
    files: List[Path] = []
    skipped: List[Path] = []
    for item in inputs:
        path = Path(item)
        if item == "-" and not path.exists():
            raise InputError("standard input is not read: save the records or papers to a file and name it")
        if path.is_dir():
            try:
                found = sorted(_walk(path), key=lambda p: p.relative_to(path).as_posix())
            except OSError as err:
                raise InputError(f"cannot read folder {item}: {err.strerror or err}") from None
            parts = _latex_parts(found) | _saved_page_files(found)
            for p in found:
                (files if (p.suffix.lower() in SUFFIXES and p not in parts) or p.is_dir() else skipped).append(p)
        elif path.is_file():
            files.append(path)
        elif glob.has_magic(item):
            matches = sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file())
            if not matches:
                raise InputError(f"no file matches {item!r}")
            parts = {p for p in matches if _latex_part(p)}
            files.extend(p for p in matches if p not in parts)
            skipped.extend(p for p in matches if p in parts)
        else:
            raise InputError(f"input not found: {item}")
    return files, skipped


def _latex_part(path: Path) -> bool:
    """A .tex file that another one inputs (no \\documentclass): skipped among a glob's matches."""
    if path.suffix.lower() != ".tex":
        return False
    from .latex_input import is_latex_part

    return is_latex_part(path)


def _saved_page_files(found: List[Path]) -> set:
    """What a browser saved beside a page ("Web Page, complete": ``paper.html`` and the folder
    ``paper_files`` with its styles, scripts, images and embedded frames): the folder's files are the page's
    resources, not papers, and are skipped with the other files of a folder that are not read."""
    pages = {(p.parent, p.stem) for p in found if p.suffix.lower() in (".html", ".htm", ".xhtml")}
    return {p for p in found
            if any((folder.parent, folder.name[: -len("_files")]) in pages
                   for folder in p.parents if folder.name.endswith("_files"))}


def _latex_parts(found: List[Path]) -> set:
    """The files of a folder that are parts of a LaTeX source, skipped (latex_input.py)."""
    from .latex_input import latex_parts

    return latex_parts(found)


def _walk(root: Path) -> List[Path]:
    """The entries of a folder, recursively, hidden ones left out, links followed.

    Besides files, it gives what cannot be read, so that each becomes an error
    record rather than vanish: a sub-folder that cannot be listed, a link to a
    folder that is one of its own parents (a loop), and a broken link.
    """
    out: List[Path] = []

    def visit(folder: Path, parents: Tuple[str, ...]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            if folder != root:
                out.append(folder)  # iter_file says why it cannot be read
            else:
                raise
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
                is_file = entry.is_file()
            except OSError:
                is_dir = is_file = False
            if is_dir:
                real = os.path.realpath(path)
                if real in parents:
                    out.append(path)  # a loop
                else:
                    visit(path, parents + (real,))
            elif is_file or entry.is_symlink():  # a broken link too: its record says so
                out.append(path)

    visit(root, (os.path.realpath(root),))
    return out


def _folder_error(path: Path) -> str:
    """Why a folder inside an input folder is given as a record (see :func:`_walk`)."""
    try:
        os.listdir(path)
    except OSError as err:
        return f"cannot read folder: {err.strerror or err}"
    return "symlink loop: the folder is a link to one of its own parent folders"


def _display_name(path: Path, roots: Sequence[Path]) -> str:
    for root in roots:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.name


def iter_records(
    inputs: Sequence[str],
    *,
    format: Optional[str] = None,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    max_chars: int = 1_000_000,
    exclude: Sequence[Path] = (),
    encoding: Optional[str] = None,
) -> Iterator[Record]:
    """Every record of ``inputs``, in order (see :func:`expand_inputs`); ``encoding``: that of text
    which is not UTF-8 (:func:`check_encoding`)."""
    if format is not None and format not in INPUT_FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(INPUT_FORMATS)}")
    files, _ = expand_inputs(inputs, exclude)
    roots = [Path(item) for item in inputs if Path(item).is_dir()]
    for path in files:
        name = _display_name(path, roots)
        yield from iter_file(
            path,
            name,
            format=format,
            text_columns=text_columns,
            id_column=id_column,
            max_chars=max_chars,
            encoding=encoding,
        )


def iter_file(
    path: Path,
    name: str,
    *,
    format: Optional[str] = None,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    max_chars: int = 1_000_000,
    encoding: Optional[str] = None,
) -> Iterator[Record]:
    if path.is_dir():
        yield Record(name, _error_loader(_folder_error(path)), name)
        return
    try:
        fmt = format or detect_input_format(path)
    except OSError as err:
        yield Record(name, _error_loader(f"cannot read file: {err.strerror or err}"), name)
        return
    except RecordError as err:
        yield Record(name, _error_loader(str(err)), name)
        return
    if fmt is None:
        yield Record(name, _error_loader("unknown input format (pass --format)"), name)
    elif fmt == "latex" or (fmt == "tar" and _latex_archive(path)):
        from .latex_input import latex_record

        archive = True if fmt == "tar" else None  # None: --format latex, on an e-print or a .tex file
        yield latex_record(path, name, archive=archive, max_chars=max_chars, encoding=encoding)
    elif fmt == "tar":
        from .archive_input import iter_tar_members

        yield from iter_tar_members(path, name, format=format, max_chars=max_chars, encoding=encoding)
    elif fmt == "jsonl" and _suffix(path) == ".json":
        yield from iter_json_file(
            path, name, text_columns=text_columns, id_column=id_column, max_chars=max_chars, encoding=encoding
        )
    elif fmt == "csv":
        yield from iter_csv_records(
            path, name, text_columns=text_columns, id_column=id_column, max_chars=max_chars, encoding=encoding
        )
    elif fmt == "parquet":
        from .parquet_input import iter_parquet_records

        yield from iter_parquet_records(
            path, name, text_columns=text_columns, id_column=id_column, max_chars=max_chars
        )
    elif fmt == "jsonl" or (fmt in ("s2orc", "unarxive") and _suffix(path) in (".jsonl", ".ndjson")):
        yield from iter_jsonl_records(
            path,
            name,
            text_columns=text_columns,
            id_column=id_column,
            paper_format=None if fmt == "jsonl" else fmt,
            max_chars=max_chars,
            encoding=encoding,
        )
    elif fmt in ("s2orc", "unarxive") and _json_holds_list(path):
        yield from iter_json_file(
            path, name, text_columns=text_columns, id_column=id_column, paper_format=fmt, max_chars=max_chars,
            encoding=encoding,
        )
    else:
        yield iter_paper_file(path, name, fmt, max_chars=max_chars, encoding=encoding)


def _latex_archive(path: Path) -> bool:
    from .latex_input import is_latex_archive

    return is_latex_archive(path)


def iter_paper_file(path: Path, name: str, fmt: str, *, max_chars: int, encoding: Optional[str] = None) -> Record:
    """One paper per file; its id is its file name (relative to the folder given)."""
    max_bytes = 4 * max_chars + 1024

    def load(nlp: Language) -> Content:
        try:
            data = (_read_bytes(path, PDF_MAX_BYTES, "PDF too large: {}, more than " + f"{PDF_MAX_BYTES:,}")
                    if fmt == "pdf" else _read_bytes(path, max(max_bytes, HTML_MAX_BYTES)) if fmt == "html"
                    else _read_bytes(path, max_bytes))
        except OSError as err:
            raise RecordError(f"cannot read file: {err.strerror or err}") from None
        return paper_content(data, nlp, fmt, name, max_chars, encoding)

    return Record(name, load, name)


def paper_content(
    data: bytes, nlp: Language, fmt: str, name: str, max_chars: int, encoding: Optional[str] = None
) -> Content:
    """A paper file's bytes as what the pipeline is given: a text paper's text as it is, else the
    reader's Doc. Text and Markdown that are not UTF-8 are read in ``encoding`` (:func:`decode_text`);
    XML says its own encoding."""
    if fmt == "text":
        text = decode_text(data, encoding)
        check_text(text, max_chars)
        return text
    if fmt == "pdf":
        return _read_pdf(data, nlp, name, max_chars)
    if fmt == "latex":  # a .tex member of an archive of papers: read alone
        from .latex_input import latex_member

        return latex_member(data, nlp, name, encoding)
    if fmt == "html":
        return _read_html(data, nlp, name, encoding)
    if fmt == "markdown":
        data = decode_text(data, encoding).encode("utf-8")
    return _read_structured(data, nlp, fmt, name)


def _suffix(path: Path) -> str:
    """The ending of what the file holds (``.nxml`` for ``paper.nxml.gz``), lower case."""
    return Path(content_name(path)).suffix.lower()


def _open_text(path: Path):
    """A CSV file as text: UTF-8 (a byte-order mark dropped), undecodable bytes kept as surrogates
    so that only their rows are refused; inflated when it is gzip."""
    return io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="surrogateescape", newline="")


def _read_pdf(data: bytes, nlp: Language, name: str, max_chars: int) -> Doc:
    """A PDF's text, bounded by ``--max-chars`` like any other input (see docs/pdf.md for its other bounds)."""
    from ..readers import pdf
    from ..readers._build import Paper, paper_to_doc

    paper = Paper(format="pdf", source=name)
    try:
        pdf.read_pdf(data, paper, pdf.Limits(max_chars=max_chars))
    except pdf.PdfError as err:
        raise RecordError(f"cannot read pdf: {err}") from None
    return paper_to_doc(paper, nlp)


def _read_html(data: bytes, nlp: Language, name: str, encoding: Optional[str]) -> Doc:
    """An HTML page; ``encoding`` reads a page that declares none and is not UTF-8 (docs/annotate.md)."""
    from ..readers.html_page import html_doc

    try:
        return html_doc(data, name, nlp, encoding)
    except ValueError as err:
        raise RecordError(f"cannot read html: {err}") from None


def _read_structured(source: Union[bytes, dict], nlp: Language, fmt: str, name: str) -> Doc:
    if isinstance(source, bytes) and b"\x00" in source[:4096] and fmt in ("jats", "tei"):
        raise RecordError("binary content: file contains NUL bytes")
    try:
        return readers.read_paper(source, nlp, format=fmt, name=name)
    except readers.ReaderError as err:
        raise RecordError(f"cannot read {fmt}: {err}") from None


def _record_id(obj: Dict, id_column: Optional[str], fallback: str) -> str:
    fields = (id_column,) if id_column else id_fields(obj)
    for field in fields:
        value = obj.get(field)
        if value is not None and str(value) != "":
            return str(value)
    return fallback


def join_fields(values: Iterable[object]) -> str:
    """Text columns as one document: the non-empty ones, stripped, as paragraphs in column order;
    line breaks inside every column but the last become spaces (a title wrapped over lines is one line)."""
    parts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    parts = [" ".join(p.split()) for p in parts[:-1]] + parts[-1:]
    return FIELD_SEPARATOR.join(parts)


def record_text(obj: Dict, text_columns: Optional[Sequence[str]]) -> str:
    """The text of a JSONL or CSV record: its text columns joined by :func:`join_fields`."""
    if text_columns:
        missing = [c for c in text_columns if c not in obj]
        if len(missing) == len(text_columns):
            raise RecordError(f"record has none of the text fields {', '.join(text_columns)}")
        return join_fields(obj.get(c) for c in text_columns)
    fields = text_fields(obj)
    if fields is None:
        raise RecordError("record has no text field (pass --text-columns)")
    for f in fields:
        if obj.get(f) is not None and not isinstance(obj.get(f), (str, int, float)):
            raise RecordError(f"field {f!r} is not text")
    return join_fields(obj.get(f) for f in fields)


def iter_jsonl_records(
    path: Path,
    name: str,
    *,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    paper_format: Optional[str] = None,
    max_chars: int = 1_000_000,
    encoding: Optional[str] = None,
) -> Iterator[Record]:
    """One record per non-blank line; a line that is not a JSON object is an error record.
    A UTF-8 byte-order mark before the first line is dropped; a line that is not UTF-8 is read
    in ``encoding`` when one is given.

    The id is the line's id field (``--id-column``, else ``id``, ``paper_id``, ...),
    or ``<file>:<line number>``. With ``paper_format`` (S2ORC or unarXive), each
    line is one paper given to the structured reader.
    """
    try:
        file = open_binary(path)
    except OSError as err:
        yield Record(name, _error_loader(f"cannot read file: {err.strerror or err}"), name)
        return
    with file:
        lineno = 0
        while True:
            lineno += 1
            try:
                raw = file.readline()
            except READ_ERRORS as err:  # a damaged or cut-off gzip file
                where = f"{name}:{lineno}"
                yield Record(where, _error_loader(f"{_unreadable(err)} (the rest of the file is not read)"), where)
                return
            if not raw:
                return
            if not raw.strip():
                continue
            fallback = f"{name}:{lineno}"
            where = f"{name}:{lineno}"
            try:
                line = decode_text(raw, encoding)
                if lineno == 1:
                    line = _without_bom(line)
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    raise RecordError("not a JSON object")
            except RecordError as err:
                yield Record(fallback, _error_loader(str(err)), where)
                continue
            except ValueError as err:
                yield Record(fallback, _error_loader(f"malformed JSON: {err}"), where)
                continue
            except RecursionError:
                yield Record(fallback, _error_loader(f"malformed JSON: {TOO_DEEP}"), where)
                continue
            yield Record(_record_id(obj, id_column, fallback), _json_loader(obj, text_columns, paper_format, max_chars, where), where)


def _json_holds_list(path: Path) -> bool:
    return _head(path, 64).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def iter_json_file(
    path: Path,
    name: str,
    *,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    paper_format: Optional[str] = None,
    max_chars: int = 1_000_000,
    encoding: Optional[str] = None,
) -> Iterator[Record]:
    """A ``.json`` file of records: one object (its id, else the file name) or a list of them
    (ids from their id fields, else ``<file>:<n>``). A file that does not parse is one error record."""
    try:
        value = json.loads(_without_bom(decode_text(_read_bytes(path, 4 * max_chars + 1024), encoding)))
    except RecordError as err:
        yield Record(name, _error_loader(str(err)), name)
        return
    except OSError as err:
        yield Record(name, _error_loader(f"cannot read file: {err.strerror or err}"), name)
        return
    except ValueError as err:
        yield Record(name, _error_loader(f"malformed JSON: {err}"), name)
        return
    except RecursionError:
        yield Record(name, _error_loader(f"malformed JSON: {TOO_DEEP}"), name)
        return
    single = not isinstance(value, list)
    for n, obj in enumerate([value] if single else value, 1):
        where = name if single else f"{name}:{n}"
        if not isinstance(obj, dict):
            yield Record(where, _error_loader("not a JSON object"), where)
            continue
        rid = name if single and paper_format else _record_id(obj, id_column, where)
        yield Record(rid, _json_loader(obj, text_columns, paper_format, max_chars, where), where)


def _json_loader(obj: Dict, text_columns, paper_format: Optional[str], max_chars: int, where: str):
    def load(nlp: Language) -> Content:
        if paper_format is not None:
            return _read_structured(obj, nlp, paper_format, where)
        text = record_text(obj, text_columns)
        check_text(text, max_chars)
        return text

    return load


def iter_csv_records(
    path: Path,
    name: str,
    *,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    max_chars: int = 1_000_000,
    encoding: Optional[str] = None,
) -> Iterator[Record]:
    """One record per row (header first), with the separator of :func:`csv_delimiter`.

    A column named by ``--text-columns`` or ``--id-column`` that the header lacks
    is an :class:`InputError` before any row is read. A field that is not UTF-8 is
    read in ``encoding`` when one is given (:func:`recode_field`); otherwise its row
    becomes an error record.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        delimiter = csv_delimiter(path)
        file = _open_text(path)
    except RecordError as err:
        yield Record(name, _error_loader(str(err)), name)
        return
    except READ_ERRORS as err:
        yield Record(name, _error_loader(str(_unreadable(err))), name)
        return
    with file:
        reader = csv.DictReader(file, delimiter=delimiter)
        try:
            header = _csv_header(reader.fieldnames or [], name, encoding)
        except (*READ_ERRORS, csv.Error) as err:
            yield Record(name, _error_loader(str(_unreadable(err))), name)
            return
        reader.fieldnames = header
        check_csv_header(header, name, text_columns, id_column)
        rowno = 0
        while True:
            rowno += 1
            fallback = f"{name}:{rowno}"
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:  # the rest of the file cannot be split into rows
                yield Record(fallback, _error_loader(f"malformed CSV: {err} (the rest of the file is not read)"), fallback)
                return
            except READ_ERRORS as err:  # a damaged or cut-off gzip file
                yield Record(fallback, _error_loader(f"{_unreadable(err)} (the rest of the file is not read)"), fallback)
                return
            extra = row.pop(None, None) or []  # values beyond the header's columns
            bad = None
            try:
                row = {k: recode_field(v, encoding) if isinstance(v, str) else v for k, v in row.items()}
            except RecordError as err:
                bad = str(err)
            rid = _record_id(row, id_column, fallback)
            if _has_surrogates(rid):
                rid = fallback
            if any(v.strip() for v in extra):  # empty trailing fields are harmless; values would be lost
                n = len(header) + len(extra)
                message = f"malformed CSV: the row has {n} fields, the header {len(header)} (a separator inside a value that is not quoted?)"
                yield Record(rid, _error_loader(message), fallback)
                continue
            if bad:
                yield Record(rid, _error_loader(bad), fallback)
                continue
            yield Record(rid, _json_loader(row, text_columns, None, max_chars, fallback), fallback)


#: Field separators a CSV file may use: Excel writes ";" where "," is the decimal comma.
CSV_DELIMITERS = (",", ";", "\t", "|")


def _csv_header(header: Sequence[str], name: str, encoding: Optional[str]) -> List[str]:
    """The column names, read in ``encoding`` where they are not UTF-8; :class:`InputError` when
    they cannot be read (the columns of every row would be wrong)."""
    try:
        return [recode_field(column, encoding) for column in header]
    except RecordError as err:
        raise InputError(f"{name}: its header is {err}") from None


def csv_delimiter(path: Path) -> str:
    """A ``.tsv`` file's is a tab; a CSV file's is the separator its header line holds most often
    outside quotes (``,`` on a tie or when it holds none), so that files saved by Excel with ``;``
    or tab-separated files named ``.csv`` are read as their columns."""
    if _suffix(path) == ".tsv":
        return "\t"
    header = _head(path, 65536).decode("utf-8", errors="replace").lstrip("\ufeff")
    counts = dict.fromkeys(CSV_DELIMITERS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "\r\n":
            break
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(CSV_DELIMITERS, key=lambda d: counts[d])  # max keeps the first (",") on a tie
    return best if counts[best] > 0 else ","


def check_csv_header(
    header: Sequence[str], name: str, text_columns: Optional[Sequence[str]], id_column: Optional[str]
) -> None:
    asked = list(text_columns or []) + ([id_column] if id_column else [])
    missing = [c for c in asked if c not in header]
    if missing:
        raise InputError(
            f"{name}: no column {', '.join(repr(c) for c in missing)}; columns are {', '.join(header)}"
        )
    if not text_columns and text_fields(header) is None:
        raise InputError(
            f"{name}: no text, title or abstract column; pass --text-columns (columns are {', '.join(header)})"
        )


def check_inputs(
    inputs: Sequence[str],
    *,
    format: Optional[str] = None,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    exclude: Sequence[Path] = (),
    fields_read: Optional[List[Tuple[str, str]]] = None,
    columns: Optional[Dict[str, Dict[str, List[str]]]] = None,
    encoding: Optional[str] = None,
) -> Tuple[List[Path], List[Path]]:
    """Fail early, before any output is written, on inputs that cannot be used at all.

    Returns the files and the skipped files of :func:`expand_inputs`. Given a list as
    ``fields_read``, appends ``(file name, which columns make its text and id)`` for each CSV or
    Parquet file whose columns were found by name (:func:`describe_fields`). Given a dict as
    ``columns``, sets ``columns[path]`` to the :func:`resolve_columns` of each CSV or Parquet file
    (for the manifest: what makes its records).
    """
    if format is not None and format not in INPUT_FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(INPUT_FORMATS)}")
    files, skipped = expand_inputs(inputs, exclude)
    if not files:
        raise InputError("no input files found")
    for path in files:
        try:
            fmt = format or detect_input_format(path)
        except (OSError, RecordError):
            continue  # an error record for this file, later
        if fmt == "csv":
            try:
                if _head(path, 2).startswith(UTF16_BOMS):
                    raise InputError(f"{path.name}: {UTF16_MESSAGE}")
                delimiter = csv_delimiter(path)
                with _open_text(path) as file:
                    header = next(csv.reader(file, delimiter=delimiter), [])
            except (*READ_ERRORS, RecordError, csv.Error):
                continue  # an error record for this file, later
            header = _csv_header(header, path.name, encoding)
            check_csv_header(header, path.name, text_columns, id_column)
            if columns is not None:
                columns[str(path)] = resolve_columns(header, text_columns, id_column)
            if fields_read is not None and not (text_columns and id_column):
                fields_read.append((path.name, describe_fields(header, text_columns, id_column)))
        elif fmt == "parquet":
            from .parquet_input import ParquetFileError, parquet_columns

            try:
                names = parquet_columns(path)
            except ParquetFileError:
                continue  # an error record for this file, later
            check_csv_header(names, path.name, text_columns, id_column)
            if columns is not None:
                columns[str(path)] = resolve_columns(names, text_columns, id_column)
            if fields_read is not None and not (text_columns and id_column):
                fields_read.append((path.name, describe_fields(names, text_columns, id_column)))
    return files, skipped


def resolve_columns(
    header: Sequence[str], text_columns: Optional[Sequence[str]], id_column: Optional[str]
) -> Dict[str, List[str]]:
    """The columns of ``header`` that make a record's text (joined in order) and its id (the first
    non-empty one, in order; none: ``<file>:<row>``)."""
    return {
        "text": list(text_columns or text_fields(header) or []),
        "id": [id_column] if id_column else id_fields(header),
    }


def describe_fields(header: Sequence[str], text_columns: Optional[Sequence[str]], id_column: Optional[str]) -> str:
    """Which columns of ``header`` make a record's text and id, in words, so that a run says what it
    took from a file whose columns it found by name."""
    found = resolve_columns(header, text_columns, id_column)
    ids = found["id"][:1]
    return f"text from {' + '.join(repr(c) for c in found['text'])}, id from {repr(ids[0]) if ids else '<file>:<row>'}"


def _has_surrogates(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _count_csv_rows(path: Path) -> int:
    """Rows, not lines: an abstract in quotes may span many lines. A file that cannot be split
    into rows counts the rows before the break and one error record."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # as for the records: a long abstract is a field
    rows = 0
    try:
        with _open_text(path) as file:
            for row in csv.reader(file, delimiter=csv_delimiter(path)):
                rows += 1 if row else 0  # blank lines are no rows, as for the reader of records
    except csv.Error:
        rows += 1
    return max(0, rows - 1)


def count_records(
    inputs: Sequence[str], *, format: Optional[str] = None, exclude: Sequence[Path] = ()
) -> Optional[int]:
    """A quick count of the records in ``inputs`` (for the progress bar); ``None`` if unknown."""
    try:
        files, _ = expand_inputs(inputs, exclude)
    except InputError:
        return None
    total = 0
    for path in files:
        try:
            fmt = format or detect_input_format(path)
            if fmt == "tar":
                return None  # counting its papers would read the whole archive once more
            if fmt == "parquet":
                from .parquet_input import parquet_num_rows

                total += parquet_num_rows(path)
                continue
            if fmt == "csv":
                total += _count_csv_rows(path)
            elif fmt == "jsonl" or _suffix(path) in (".jsonl", ".ndjson"):
                with open_binary(path) as file:
                    total += sum(1 for line in file if line.strip())
            else:
                total += 1
        except (*READ_ERRORS, RecordError, InputError):  # an unreadable Parquet file: one error record
            total += 1
    return total
