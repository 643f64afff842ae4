"""A paper's LaTeX source as one text: its files, its main file, its ``\\input`` and ``\\include`` resolved.

arXiv gives a paper's source as a (gzipped) tar of ``.tex``, ``.bbl``, figure and
style files, or as a single gzipped ``.tex``; authors keep it as a folder. The
paper is the file with ``\\documentclass`` and ``\\begin{document}``; the other
``.tex`` files are the parts it inputs. What is read is bounded, so that a
source with thousands of files, a huge member, an include loop or binary junk
under a ``.tex`` name gives an error or a note, never a full memory or a hang:
see :class:`Limits`. Includes are resolved inside the source only: a name with
``..`` or an absolute path is refused (and noted), as is a folder's file that a
link takes outside the folder.
"""
import io
import os
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Dict, List, Optional, Tuple, Union

#: Endings of the members of a source that are read (text); figures and styles are never read.
TEXT_SUFFIXES = (".tex", ".ltx", ".bbl")
#: TeX's input encodings (``\\usepackage[latin1]{inputenc}``) -> Python's codec.
INPUTENC = {
    "latin1": "latin-1", "latin9": "iso8859-15", "latin2": "iso8859-2", "ansinew": "cp1252", "cp1252": "cp1252",
    "cp1250": "cp1250", "applemac": "mac-roman", "utf8": "utf-8", "utf8x": "utf-8", "koi8-r": "koi8-r",
    "cp1251": "cp1251", "cp850": "cp850", "cp437": "cp437", "latin5": "iso8859-9",
}
_INPUTENC = re.compile(rb"\\usepackage\s*\[([^\]]{1,40})\]\s*\{inputenc\}")
_DOCUMENTCLASS = re.compile(r"\\document(?:class|style)\b")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
# \input{name}, \include{name}, \subfile{name}, and TeX's \input name (no braces).
_INCLUDE = re.compile(r"\\(input|include|subfile|subfileinclude)\s*(?:\{([^{}\n]*)\}|(?<=input)\s+([^\s{}\\]+))")
# Comments: a % that no odd number of backslashes escapes, to the end of the line; as TeX does,
# the comment takes the line break and the next line's leading blanks with it.
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%[^\n]*(?:\n[ \t]*)?")
# Environments whose content is not running text and may hold a % or unbalanced braces.
_VERBATIM = re.compile(r"\\begin\s*\{(verbatim\*?|Verbatim|lstlisting|minted|comment|filecontents\*?)\}")
_CONDITIONAL = re.compile(r"\\(iffalse|if[a-zA-Z]*|else|fi)(?![a-zA-Z])")


class SourceError(ValueError):
    """The source cannot be read as a paper; the message says why."""


class EncodingError(SourceError):
    """A .tex file that is not UTF-8 and does not say its encoding."""


@dataclass
class Limits:
    """Bounds on what one source may cost."""

    #: regular files in an archive (figures included): more is not one paper's source
    max_members: int = 10_000
    #: one .tex or .bbl file: a bigger one is skipped (and noted)
    max_file_bytes: int = 16 * 1024 * 1024
    #: all the text files read together
    max_total_bytes: int = 64 * 1024 * 1024
    #: \input inside \input inside ... (TeX itself stops at about 15 open files)
    max_include_depth: int = 12
    #: \input and \include resolved in one paper
    max_includes: int = 2_000
    #: the paper's text with its includes resolved, in characters
    max_chars: int = 32_000_000


@dataclass
class LatexSource:
    """The text files of a source: ``read(name)`` gives a file's text (``None`` when there is none)."""

    names: List[str]
    read: Callable[[str], Optional[str]]
    notes: List[str] = field(default_factory=list)


def decode_tex(data: bytes, name: Optional[str], encoding: Optional[str] = None) -> str:
    """A .tex file's text: UTF-8, else the encoding its ``inputenc`` declares, else ``encoding``.

    Latin-1 sources are common on arXiv and say so with ``\\usepackage[latin1]{inputenc}``; a file whose
    only bytes that are not UTF-8 are in its comments (which are not read) is read; any other file that is
    neither UTF-8 nor declares its encoding (nor is given one) is an error, not a guess.
    """
    where = f"{name}: " if name else ""
    if b"\x00" in data[:65536]:
        raise SourceError(f"{where}binary content, not LaTeX")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        declared = _INPUTENC.search(data[:65536])
        codec = None
        if declared:
            for option in declared.group(1).decode("ascii", "replace").split(","):
                codec = INPUTENC.get(option.strip().lower()) or codec
        codec = codec if codec and codec != "utf-8" else encoding
        if codec is None:
            text = data.decode("latin-1")
            if strip_comments(text).isascii():
                return text  # only its comments are not UTF-8 (an author's note in latin-1): they are not read
            raise EncodingError(f"{where}not UTF-8 (byte 0x{data[err.start]:02x} at offset {err.start}) and no "
                              "\\usepackage[...]{inputenc} says its encoding") from None
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            raise SourceError(f"{where}neither UTF-8 nor {codec}, the encoding it declares") from None


def strip_comments(text: str) -> str:
    """The text without its comments, verbatim blocks, ``comment`` environments and ``\\iffalse`` blocks."""
    text = _drop_verbatim(text)
    text = _COMMENT.sub(r"\1", text)
    return _drop_iffalse(text)


def _drop_verbatim(text: str) -> str:
    """Verbatim-like environments left out, found with one pass (an unclosed one runs to the end, as in TeX)."""
    out: List[str] = []
    pos = 0
    for match in _VERBATIM.finditer(text):
        if match.start() < pos:
            continue
        end = text.find(f"\\end{{{match.group(1)}}}", match.end())
        out.append(text[pos:match.start()] + " ")
        pos = len(text) if end < 0 else end + len(match.group(1)) + 6
    out.append(text[pos:])
    return "".join(out)


def _drop_iffalse(text: str) -> str:
    """``\\iffalse ... \\fi`` left out (authors comment out whole blocks so); an ``\\else`` branch is kept."""
    out: List[str] = []
    pos = 0
    while True:
        start = text.find("\\iffalse", pos)
        if start < 0:
            break
        depth, keep_from, end = 0, None, None
        for match in _CONDITIONAL.finditer(text, start + len("\\iffalse")):
            word = match.group(1)
            if word == "fi":
                if depth == 0:
                    end = match
                    break
                depth -= 1
            elif word == "else":
                if depth == 0 and keep_from is None:
                    keep_from = match.end()
            elif word != "ifthenelse":  # a LaTeX macro, not a TeX conditional: it has no \fi
                depth += 1
        if end is None:  # no matching \fi: TeX would fail; keep the text rather than lose it
            break
        out.append(text[pos:start])
        if keep_from is not None:
            out.append(text[keep_from:end.start()])
        pos = end.end()
    out.append(text[pos:])
    return "".join(out)


def is_main(text: str) -> bool:
    """A file that makes a document: ``\\documentclass`` (or ``\\documentstyle``) and ``\\begin{document}``."""
    return bool(_DOCUMENTCLASS.search(text) and _BEGIN_DOCUMENT.search(text))


def looks_like_latex(head: bytes) -> bool:
    """Whether the first bytes of a file of no telling name (arXiv's ``2212.11885``) are LaTeX."""
    text = head.decode("utf-8", "replace")
    if _DOCUMENTCLASS.search(text) or _BEGIN_DOCUMENT.search(text):
        return True
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("%"):
            return bool(re.match(r"\\(documentclass|documentstyle|input|usepackage|newcommand|def|begin|section|title)\b", line))
    return False


def _member_name(name: str) -> Optional[str]:
    """An archive member's name as a relative POSIX path, or None for one outside the source."""
    path = PurePosixPath(name)
    parts = [p for p in path.parts if p not in ("", ".")]
    if path.is_absolute() or ".." in parts or not parts:
        return None
    return "/".join(parts)


def _is_junk(name: str) -> bool:
    """macOS's resource forks (``._main.tex``, ``__MACOSX/``) and hidden files: not the paper's files."""
    parts = name.split("/")
    return parts[-1].startswith(".") or "__MACOSX" in parts


def from_tar(archive: Union[bytes, os.PathLike, str], name: str, limits: Limits,
             encoding: Optional[str] = None) -> LatexSource:
    """The text files of a tar archive (gzipped or not; bytes or a path), read as a stream:
    figures are skipped without being read."""
    texts: Dict[str, bytes] = {}
    notes: List[str] = []
    total = members = 0
    try:
        if isinstance(archive, (bytes, bytearray)):
            tar = tarfile.open(fileobj=io.BytesIO(archive), mode="r|*")
        else:
            tar = tarfile.open(archive, mode="r|*")
        with tar:
            for member in tar:
                if not member.isfile():
                    continue
                members += 1
                if members > limits.max_members:
                    raise SourceError(f"{name}: more than {limits.max_members:,} files: not one paper's source")
                relative = _member_name(member.name)
                if relative is None:
                    notes.append(f"member outside the source skipped: {member.name}")
                    continue
                if _is_junk(relative) or not relative.lower().endswith(TEXT_SUFFIXES):
                    continue
                if member.size > limits.max_file_bytes:
                    notes.append(f"{relative}: {member.size:,} bytes, more than {limits.max_file_bytes:,}: skipped")
                    continue
                total += member.size
                if total > limits.max_total_bytes:
                    raise SourceError(f"{name}: its text files hold more than {limits.max_total_bytes:,} bytes")
                file = tar.extractfile(member)
                texts[relative] = file.read() if file is not None else b""
    except tarfile.TarError as err:
        raise SourceError(f"{name}: cannot read the archive ({err})") from None
    except (OSError, EOFError) as err:
        raise SourceError(f"{name}: cannot read the archive ({err or type(err).__name__})") from None
    return _from_bytes(texts, name, notes, encoding)


def _from_bytes(texts: Dict[str, bytes], name: str, notes: List[str], encoding: Optional[str]) -> LatexSource:
    decoded: Dict[str, Optional[str]] = {}

    def read(member: str) -> Optional[str]:
        if member not in texts:
            return None
        if member not in decoded:
            try:
                decoded[member] = decode_tex(texts[member], f"{name}/{member}", encoding)
            except SourceError as err:
                notes.append(str(err).removeprefix(f"{name}/"))
                decoded[member] = None
        return decoded[member]

    return LatexSource(sorted(texts), read, notes)


def from_text(text: str, file_name: str = "paper.tex") -> LatexSource:
    """One file's text, with no other file to include."""
    return LatexSource([file_name], lambda member: text if member == file_name else None, [])


def from_folder(folder: Path, main: str, main_text: str, limits: Limits,
                encoding: Optional[str] = None) -> LatexSource:
    """The source around a main file on disk, whose text is given: the files it includes are read from
    its folder (and below) when they are asked for, never from outside it."""
    root = Path(os.path.realpath(folder))
    notes: List[str] = []
    decoded: Dict[str, Optional[str]] = {main: main_text}

    def read(member: str) -> Optional[str]:
        if member in decoded:
            return decoded[member]
        path = Path(os.path.realpath(root / member))
        text = None
        if root not in path.parents:
            notes.append(f"{member}: a link outside the source folder: not read")
        elif path.is_file():
            size = path.stat().st_size
            if size > limits.max_file_bytes:
                notes.append(f"{member}: {size:,} bytes, more than {limits.max_file_bytes:,}: skipped")
            else:
                try:
                    text = decode_tex(path.read_bytes(), member, encoding)
                except SourceError as err:
                    notes.append(str(err))
                except OSError as err:
                    notes.append(f"{member}: cannot be read ({err.strerror or err})")
        decoded[member] = text
        return text

    return LatexSource([main], read, notes)


def choose_main(source: LatexSource) -> Tuple[str, List[str]]:
    """The paper's file and the other files that could be one (noted: a source holds one paper).

    The candidates are the ``.tex`` files with ``\\documentclass`` and ``\\begin{document}``; one that
    another candidate inputs is a part; of the rest, the one with the most text. Without any, a fragment:
    the file with ``\\documentclass``, else the one no other file inputs, else the largest.
    """
    tex = [n for n in source.names if n.lower().endswith((".tex", ".ltx"))]
    texts = {n: source.read(n) for n in tex}
    texts = {n: strip_comments(t) for n, t in texts.items() if t is not None}
    if not texts:
        why = f" ({'; '.join(source.notes[:3])})" if source.notes else ""
        raise SourceError(f"no readable .tex file{why}")
    included = set()
    for n, t in texts.items():
        for match in _INCLUDE.finditer(t):
            target = resolve_name(n, (match.group(2) or match.group(3) or "").strip())
            if target:
                included.update((target, target + ".tex"))
    mains = [n for n, t in texts.items() if is_main(t)]
    pool = [n for n in mains if n not in included] or mains
    if not pool:
        pool = [n for n, t in texts.items() if _DOCUMENTCLASS.search(t)] or [n for n in texts if n not in included] or list(texts)
    pool.sort(key=lambda n: (-len(texts[n]), n))
    return pool[0], [n for n in mains if n != pool[0] and n not in included]


def resolve_name(main: str, target: str) -> Optional[str]:
    """The member an ``\\input{target}`` names: TeX resolves includes from the folder it runs in, the main
    file's (arXiv's is the top of the source); None for a name outside the source."""
    target = target.strip().strip('"')
    if not target or PurePosixPath(target).is_absolute():
        return None
    return _member_name(str(PurePosixPath(main).parent / target))


def expand(source: LatexSource, main: str, limits: Limits) -> Tuple[str, List[str]]:
    """The main file's text, comments out, every include resolved in place (bounded, see :class:`Limits`).
    Returns the text and notes on includes that were not resolved."""
    notes: List[str] = []
    count = size = 0

    def body(member: str, stack: Tuple[str, ...]) -> str:
        nonlocal count, size
        text = source.read(member)
        if text is None:
            return ""
        text = strip_comments(text)
        size += len(text)  # counted before the text is put together, so that it never grows past the bound
        if size > limits.max_chars:
            raise SourceError(f"more than {limits.max_chars:,} characters with its includes")

        def include(match: "re.Match") -> str:
            nonlocal count
            raw = (match.group(2) or match.group(3) or "").strip()
            target = resolve_name(main, raw)
            if target is None:
                notes.append(f"\\{match.group(1)}{{{raw}}}: outside the source: refused")
                return " "
            tries = (target,) if target.lower().endswith(".tex") else (target + ".tex", target)  # as TeX looks
            found = next((t for t in tries if t in source.names or source.read(t) is not None), None)
            if found is None:
                if not raw.lower().endswith((".sty", ".cls", ".pgf", ".tikz", ".pdf_tex")):
                    notes.append(f"\\{match.group(1)}{{{raw}}}: no such file in the source")
                return " "
            if found in stack:
                notes.append(f"\\{match.group(1)}{{{raw}}}: includes itself (a loop): left out")
                return " "
            if len(stack) >= limits.max_include_depth:
                notes.append(f"\\{match.group(1)}{{{raw}}}: nested more than {limits.max_include_depth} deep: left out")
                return " "
            count += 1
            if count > limits.max_includes:
                raise SourceError(f"more than {limits.max_includes:,} \\input and \\include")
            # \include starts a page: its text is a paragraph of its own
            sep = "\n\n" if match.group(1) == "include" else " "
            return sep + body(found, stack + (found,)) + sep

        return _INCLUDE.sub(include, text)

    return body(main, (main,)), notes


def bibliography_text(source: LatexSource, main: str, text: str) -> Optional[str]:
    """The ``.bbl`` that BibTeX made for the paper (arXiv sources carry it): the main file's name with
    ``.bbl``, else the ``\\bibliography{name}``'s, else the only ``.bbl`` of the source."""
    bbls = [n for n in source.names if n.lower().endswith(".bbl")]
    wanted = [str(PurePosixPath(main).with_suffix(".bbl"))]
    for match in re.finditer(r"\\bibliography\s*\{([^{}]*)\}", text):
        wanted += [resolve_name(main, n.strip()) + ".bbl" for n in match.group(1).split(",") if resolve_name(main, n.strip())]
    for name in wanted + (bbls if len(bbls) == 1 else []):
        found = source.read(name)
        if found is not None:
            return strip_comments(found)
    return None
