"""Papers inside a tar archive (``.tar``, ``.tar.gz``, ``.tgz``): one record per paper, read as it streams.

PubMed Central's bulk packages and arXiv's sources come as tar archives of
thousands of papers. Unpacking a million files first costs a folder of a
million files; reading the archive as a stream costs one pass. Each member
whose name ends like a paper (``.nxml``, ``.xml``, ``.pdf``, ``.txt``, ``.md``, ``.html``,
``.json``, any of them ``.gz``) is a record whose id is
``<archive>/<member path>``; other members (figures, supplementary files,
folders) are skipped, as in a folder. A member is read when the archive
reaches it (a tar stream cannot go back), bounded like a file of its own; a
member holding records (JSONL, CSV, Parquet) or another archive gets an error
record that says to unpack it. An archive that breaks off mid-way gives an
error record for the rest, after the papers read before the break; one with no
paper at all (LaTeX sources, say) gives one error record that says what it holds.
"""
import gzip
import io
import tarfile
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Iterator, Optional

from .compressed import GZIP_MAGIC, READ_ERRORS, content_name
from .inputs import (
    HTML_MAX_BYTES,
    PDF_MAX_BYTES,
    SUFFIXES,
    Record,
    RecordError,
    _error_loader,
    content_format,
    paper_content,
)

#: Member endings that are records or archives: not read inside an archive, each an error record.
NOT_READ_INSIDE = {s for s, fmt in SUFFIXES.items() if fmt in ("jsonl", "csv", "parquet")} | {".tar", ".tgz", ".gz"}
UNPACK = "unpack it (tar xf) and give the folder"


def _member_id(archive_name: str, member_name: str) -> str:
    return f"{archive_name}/{PurePosixPath(member_name.lstrip('/')).as_posix().removeprefix('./')}"


def _loader(data: bytes, fmt: str, rid: str, max_chars: int, encoding: Optional[str] = None):
    def load(nlp) -> object:
        return paper_content(data, nlp, fmt, rid, max_chars, encoding)

    return load


def _inflate(data: bytes, max_bytes: int) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as file:
        out = file.read(max_bytes + 1)
    if len(out) > max_bytes:
        raise RecordError(f"text too long: the member inflates to more than {max_bytes:,} bytes")
    return out


def _member_record(tar: tarfile.TarFile, member: tarfile.TarInfo, rid: str, inner: str,
                   format: Optional[str], max_chars: int, encoding: Optional[str] = None) -> Record:
    suffix = Path(inner).suffix.lower()
    max_bytes = (PDF_MAX_BYTES if suffix == ".pdf" else max(HTML_MAX_BYTES, 4 * max_chars + 1024)
                 if SUFFIXES.get(suffix) == "html" else 4 * max_chars + 1024)
    if suffix in NOT_READ_INSIDE:
        return Record(rid, _error_loader(f"records or an archive inside an archive: {UNPACK}"), rid)
    if member.size > max(max_bytes, PDF_MAX_BYTES):
        return Record(rid, _error_loader(f"text too long: the member has {member.size:,} bytes"), rid)
    file = tar.extractfile(member)
    data = file.read() if file is not None else b""
    try:
        if data[:2] == GZIP_MAGIC:
            data = _inflate(data, max_bytes)
        if len(data) > max_bytes:
            raise RecordError(f"text too long: the member has {len(data):,} bytes, more than --max-chars allows")
        fmt = format or content_format(inner, data[:4096], lambda: data)
    except RecordError as err:
        return Record(rid, _error_loader(str(err)), rid)
    except READ_ERRORS as err:
        return Record(rid, _error_loader(f"cannot read file: {err or type(err).__name__}"), rid)
    if fmt in ("jsonl", "csv", "parquet", "tar"):
        return Record(rid, _error_loader(f"records or an archive inside an archive: {UNPACK}"), rid)
    if fmt is None:
        return Record(rid, _error_loader("unknown input format (pass --format)"), rid)
    return Record(rid, _loader(data, fmt, rid, max_chars, encoding), rid)


def iter_tar_members(
    path: Path, name: str, *, format: Optional[str] = None, max_chars: int = 1_000_000, encoding: Optional[str] = None
) -> Iterator[Record]:
    """One record per paper member of the archive at ``path``, in archive order (see the module)."""
    try:
        tar = tarfile.open(path, mode="r|*")
    except (tarfile.TarError, *READ_ERRORS) as err:
        yield Record(name, _error_loader(f"cannot read archive: {err or type(err).__name__}"), name)
        return
    members = iter(tar)
    found = 0
    other: Counter = Counter()  # endings of the files skipped, for an archive with no paper at all
    with tar:
        while True:
            try:
                member = next(members)
            except StopIteration:
                if not found:  # never nothing for an input: an archive of, say, LaTeX sources says so
                    kinds = ", ".join(f"{e}: {n}" for e, n in other.most_common(5)) or "none"
                    yield Record(name, _error_loader(f"no papers in the archive: it holds files of other types ({kinds})"), name)
                return
            except (tarfile.TarError, *READ_ERRORS) as err:
                yield Record(name, _error_loader(
                    f"cannot read archive: {err or type(err).__name__} (the rest of the archive is not read)"), name)
                return
            if not member.isfile():
                continue
            inner = content_name(Path(member.name))  # a.nxml for a.nxml.gz
            if Path(inner).suffix.lower() not in SUFFIXES:
                other[Path(member.name).suffix.lower() or "(no ending)"] += 1
                continue  # a figure or another file of no known type, as in a folder
            found += 1
            rid = _member_id(name, member.name)
            try:
                record = _member_record(tar, member, rid, inner, format, max_chars, encoding)
            except (tarfile.TarError, *READ_ERRORS) as err:
                yield Record(rid, _error_loader(
                    f"cannot read archive: {err or type(err).__name__} (the rest of the archive is not read)"), rid)
                return
            yield record
