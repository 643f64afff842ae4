"""LaTeX sources as records: one paper per source, whether a ``.tex`` file, an arXiv e-print or a folder.

A source is many files but one paper: its ``.tex`` parts, ``.bbl``, figures
and styles make one record, whose id is the archive's or the main file's
name. A tar archive is a source when a ``.tex`` file comes in it before any
member that only an archive of papers holds (JATS, TEI, JSON: PubMed
Central's packages); this costs a look at the archive's member names before
it is read, stopped as soon as either is seen. In a folder, or among the
matches of a glob, a ``.tex`` file is a paper when it has ``\\documentclass``;
the other ``.tex`` files are the parts that a paper inputs, and the files
below a paper's folder that its LaTeX names are its figures and data: all
skipped (and counted) like files of other types.
"""
import re
import tarfile
from pathlib import Path
from typing import Iterable, Optional, Set

from .compressed import READ_ERRORS, content_name, is_tar, open_binary
from .inputs import RECODE_HINT, Record, RecordError, _looks_binary, _read_bytes

#: Member endings that only an archive of papers holds (a LaTeX source never does).
PAPER_ARCHIVE_ENDINGS = (".nxml", ".xml", ".json", ".jsonl", ".tei", ".csv", ".parquet")
#: Members looked at to tell a LaTeX source from an archive of papers, at most.
MAX_MEMBERS_LOOKED_AT = 100_000
#: Bytes of a .tex file in a folder read to find its \documentclass (after a long comment header).
HEAD_BYTES = 256 * 1024
_DOCUMENTCLASS = re.compile(rb"^[ \t]*\\document(?:class|style)\b", re.M)


def is_latex_archive(path: Path) -> bool:
    """Whether the tar archive at ``path`` is a paper's LaTeX source (see the module)."""
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for count, member in enumerate(tar):
                if count >= MAX_MEMBERS_LOOKED_AT:
                    return False
                name = content_name(Path(member.name)).lower()
                if not member.isfile() or Path(name).name.startswith("."):
                    continue
                if name.endswith((".tex", ".ltx")):
                    return True
                if name.endswith(PAPER_ARCHIVE_ENDINGS) or name.endswith((".tar", ".tgz")):
                    return False
    except (tarfile.TarError, *READ_ERRORS):
        return False  # the archive reader says what is wrong with it
    return False


def is_latex_part(path: Path) -> bool:
    """A ``.tex`` file without ``\\documentclass``: a part of a paper's source, not a paper."""
    try:
        with open_binary(path) as file:
            head = file.read(HEAD_BYTES)
    except (*READ_ERRORS, ValueError):
        return False  # its record says why it cannot be read
    return _DOCUMENTCLASS.search(head) is None


def latex_parts(files: Iterable[Path]) -> Set[Path]:
    """The files of a folder's listing that belong to a paper's LaTeX source without being a paper: every
    ``.tex`` file without ``\\documentclass``, and every file below a paper's folder that its LaTeX names
    (``\\includegraphics{figures/plot}``, a ``.bbl``, a data file), so that a figure's PDF is not read as
    a paper while another paper's PDF beside it is."""
    files = list(files)
    tex = [p for p in files if p.suffix.lower() == ".tex"]
    if not tex:
        return set()
    mains = {p for p in tex if not is_latex_part(p)}
    parts = {p for p in tex if p not in mains}
    for root in {p.parent for p in mains}:
        named = set()
        for p in tex:
            if root == p.parent or root in p.parents:
                named |= _names_in(p)
        for p in files:
            if p in mains or p in parts or not (root == p.parent or root in p.parents):
                continue
            relative = p.relative_to(root).as_posix()
            if named & {relative, relative.rsplit(".", 1)[0], p.name, p.stem} or p.suffix.lower() == ".bbl":
                parts.add(p)
    return parts


_ARGUMENT = re.compile(rb"\{([^{}\n]{1,300})\}")


def _names_in(path: Path) -> Set[str]:
    """What the braced arguments of a .tex file name (file names among them), lower case kept."""
    try:
        with open_binary(path) as file:
            data = file.read(16 * 1024 * 1024)
    except (*READ_ERRORS, ValueError):
        return set()
    out = set()
    for match in _ARGUMENT.finditer(data):
        for item in match.group(1).decode("utf-8", "replace").split(","):
            item = item.strip().removeprefix("./")
            if item:
                out.add(item)
    return out


def _source_error(err: Exception, name: str) -> RecordError:
    from ..readers.latex import EncodingError

    message = str(err).removeprefix(f"{name}: ")
    if isinstance(err, EncodingError):
        return RecordError(f"not UTF-8 text: {message} ({RECODE_HINT})")
    return RecordError(f"cannot read latex: {message}")


def _check_file(data: bytes) -> bytes:
    """The reasons a one-file source is refused that any text file has, named as for text."""
    if not data.strip():
        raise RecordError("empty text")
    if _looks_binary(data[:4096]):
        raise RecordError("binary content: the file is not text")
    return data


def latex_record(path: Path, name: str, *, archive: Optional[bool], max_chars: int, encoding: Optional[str] = None) -> Record:
    """One record for the source at ``path``: a tar archive, or a ``.tex`` file (gzipped or not) whose
    includes are read from its folder (``archive`` None: the first bytes tell which)."""

    def load(nlp):
        from ..readers._build import Paper, paper_to_doc
        from ..readers.latex import SourceError, read_latex_archive, read_latex_bytes

        paper = Paper(format="latex", source=name)
        try:
            is_archive = archive
            if is_archive is None:
                with open_binary(path) as file:
                    is_archive = is_tar(file.read(512), content_name(path))
            if is_archive:
                read_latex_archive(path, paper, encoding=encoding)
            else:
                data = _check_file(_read_bytes(path, 4 * max_chars + 1024))
                read_latex_bytes(data, paper, path=path, encoding=encoding)
        except SourceError as err:
            raise _source_error(err, name) from None
        except READ_ERRORS as err:
            raise RecordError(f"cannot read file: {err or type(err).__name__}") from None
        except (IndexError, KeyError, AttributeError, RecursionError) as err:
            raise RecordError(f"cannot read latex: {type(err).__name__}: {err}") from None
        return paper_to_doc(paper, nlp)  # its text is held to --max-chars as any doc is (run.py)

    return Record(name, load, name)


def latex_member(data: bytes, nlp, name: str, encoding: Optional[str] = None):
    """A ``.tex`` member of an archive of papers: read alone (its includes are not at hand)."""
    from ..readers._build import Paper, paper_to_doc
    from ..readers.latex import SourceError, read_latex_bytes

    paper = Paper(format="latex", source=name)
    try:
        read_latex_bytes(_check_file(data), paper, encoding=encoding)
    except SourceError as err:
        raise _source_error(err, name) from None
    except (IndexError, KeyError, AttributeError, RecursionError) as err:
        raise RecordError(f"cannot read latex: {type(err).__name__}: {err}") from None
    return paper_to_doc(paper, nlp)


__all__ = ["is_latex_archive", "is_latex_part", "latex_parts", "latex_member", "latex_record"]
