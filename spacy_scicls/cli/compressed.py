"""Gzipped inputs, read as the file they hold; archives, named as such.

Bulk downloads come compressed: PubMed Central's papers as ``.nxml.gz``,
corpora as ``.jsonl.gz`` or ``.csv.gz``. A file whose first bytes are gzip's
is read through ``gzip`` and its format is that of its name without ``.gz``
(and, as for any file, of its first bytes). What it inflates to is bounded as
an uncompressed file would be, so a small file that inflates to gigabytes is
an error record, not a full memory. A tar archive (``.tar``, ``.tar.gz``,
``.tgz``, or a ``.gz`` that holds one, as arXiv's sources do) holds many
files: :mod:`spacy_scicls.cli.archive_input` reads its papers.
"""
import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
#: Errors that reading a damaged or cut-off gzip file raises, besides OSError.
READ_ERRORS = (OSError, EOFError, zlib.error)


class TooLarge(ValueError):
    """The file (inflated, for gzip) holds more bytes than allowed."""


def is_gzip(path: Path) -> bool:
    with Path(path).open("rb") as file:
        return file.read(2) == GZIP_MAGIC


def content_name(path: Path) -> str:
    """The name of what a file holds: ``paper.nxml.gz`` holds ``paper.nxml``, ``src.tgz`` ``src.tar``."""
    name = Path(path).name
    lower = name.lower()
    if lower.endswith(".tgz"):
        return name[:-4] + ".tar"
    if lower.endswith(".gz"):
        return name[:-3]
    return name


def open_binary(path: Path) -> BinaryIO:
    """The file's content as a binary stream: inflated when it is gzip (by its first bytes)."""
    path = Path(path)
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The whole content (inflated), or :class:`TooLarge` when it holds more than ``max_bytes``."""
    path = Path(path)
    if not is_gzip(path):
        size = path.stat().st_size
        if size > max_bytes:
            raise TooLarge(f"the file has {size:,} bytes")
        return path.read_bytes()
    with gzip.open(path, "rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(f"the file inflates to more than {max_bytes:,} bytes")
    return data


def is_tar(head: bytes, name: str) -> bool:
    """A tar archive, by its name or by the ``ustar`` mark at byte 257 of its (inflated) first bytes."""
    return name.lower().endswith(".tar") or head[257:262] == b"ustar"
