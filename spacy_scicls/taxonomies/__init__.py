"""Label taxonomies for document categories: ERC panels, arXiv categories, HRCS codes.

Each taxonomy is a JSON file in ``data/`` (codes, short names, groups, aliases, a
description of every label with its sub-descriptions, and the public origin and
licence of all of it). :func:`load_taxonomy` turns one into an immutable
:class:`Taxonomy` that names, groups and normalises labels::

    >>> erc = load_taxonomy("erc")
    >>> erc.normalise("PE6 - Computer Science & Informatics")
    'PE6'
    >>> erc.cat_key("PE6"), erc.group_key("PE6")
    ('erc/PE6', 'erc_domain/PE')

``doc.cats`` keys are namespaced (``"erc/PE6"``) because several taxonomies share
one ``doc.cats`` dict and their codes are not disjoint in general (a user taxonomy
may well reuse ``"1.1"``).

A user's own taxonomy is a JSON file in the same format or a CSV file with the
columns ``code, name, description`` and optionally ``group``
(:func:`read_taxonomy_file`); a malformed file raises :class:`TaxonomyFileError`,
which names the file and the line.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

__all__ = [
    "TAXONOMY_NAMES",
    "Label",
    "Taxonomy",
    "TaxonomyFileError",
    "UnknownLabelError",
    "load_taxonomy",
    "read_taxonomy_file",
]

TAXONOMY_NAMES: Tuple[str, ...] = ("erc", "arxiv", "hrcs_rac", "hrcs_hc")

# Characters that may separate a leading code from a trailing name ("6.1 Pharma...",
# "6.1: Pharma..."). Not ".", because "astro-ph.XX" must not be read as "astro-ph".
_CODE_NAME_SEPARATORS = (" ", ":")
_MAX_SUGGESTIONS = 3


class UnknownLabelError(ValueError):
    """A raw label that a taxonomy cannot map onto exactly one of its codes.

    A ``ValueError`` so that callers validating user input can catch both this and
    other bad-value errors at once. The attributes let a caller build its own
    message or pick a suggestion programmatically.
    """

    def __init__(
        self, message: str, *, taxonomy: str, raw: str, suggestions: Tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.taxonomy = taxonomy
        self.raw = raw
        self.suggestions = suggestions


@dataclass(frozen=True)
class Label:
    """One label of a taxonomy: its canonical code and short display name."""

    code: str
    name: str
    group: Optional[str] = None
    aliases: Tuple[str, ...] = ()
    # True for codes that are still met in old metadata but no longer assigned
    # (e.g. the bare arXiv archive "astro-ph"); callers may drop them from label sets.
    legacy: bool = False
    # What the label covers, in words: a category head scores documents against it.
    description: str = ""
    # Narrower descriptions (ERC sub-panel descriptors, HRCS inclusion items): a
    # document matching one of them well matches the label.
    descriptors: Tuple[str, ...] = ()

    def description_texts(self) -> Tuple[str, ...]:
        """The texts that describe the label: name and description first, then each descriptor.

        Empty when the label has no description (a name alone says too little to score on).
        """
        if not self.description:
            return ()
        return (f"{self.name}: {self.description}", *self.descriptors)


def _fold(text: str) -> str:
    """Spelling-insensitive lookup key.

    NFKC turns non-breaking spaces (present in upstream HRCS names) into spaces;
    "&" vs "and" and optional commas ("Environment, and Space" vs "Environment &
    Space") are the variants seen between sources of the same ERC/HRCS names.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("&", " and ").replace(",", " ").replace("\u2013", "-").replace("\u2014", "-")
    return " ".join(text.casefold().split()).strip(" .:;")


class Taxonomy:
    """An immutable set of labels with names, groups and a normaliser for raw spellings.

    Instances are shared through :func:`load_taxonomy`'s cache, so nothing about them
    can be changed after construction, and :attr:`groups` returns a copy.
    """

    __slots__ = (
        "name",
        "title",
        "version",
        "source",
        "license_note",
        "multi_label",
        "group_taxonomy",
        "_groups",
        "_labels",
        "_by_code",
        "_code_index",
        "_name_index",
        "_prefix_codes",
    )

    def __init__(
        self,
        name: str,
        labels: Iterable[Label],
        *,
        title: str = "",
        version: str = "",
        source: str = "",
        license_note: str = "",
        multi_label: bool = True,
        group_taxonomy: Optional[str] = None,
        groups: Optional[Mapping[str, str]] = None,
    ) -> None:
        if not name or "/" in name:
            raise ValueError(f"Taxonomy name must be non-empty and contain no '/': {name!r}")
        labels = tuple(labels)
        groups = dict(groups or {})
        if groups and not group_taxonomy:
            raise ValueError(f"Taxonomy {name!r} has groups but no group_taxonomy name")
        by_code: Dict[str, Label] = {}
        code_index: Dict[str, str] = {}
        name_index: Dict[str, FrozenSet[str]] = {}
        for label in labels:
            if not label.code or "/" in label.code:
                raise ValueError(f"Taxonomy {name!r}: bad code {label.code!r} (empty or containing '/')")
            if label.code in by_code:
                raise ValueError(f"Taxonomy {name!r}: duplicate code {label.code!r}")
            if label.group is not None and label.group not in groups:
                raise ValueError(
                    f"Taxonomy {name!r}: label {label.code!r} has group {label.group!r}, "
                    f"which is not among its groups {sorted(groups)}"
                )
            folded_code = _fold(label.code)
            if folded_code in code_index:
                raise ValueError(
                    f"Taxonomy {name!r}: codes {code_index[folded_code]!r} and {label.code!r} "
                    "differ only in case or punctuation"
                )
            by_code[label.code] = label
            code_index[folded_code] = label.code
            for spelling in (label.name, *label.aliases):
                key = _fold(spelling)
                name_index[key] = name_index.get(key, frozenset()) | {label.code}
        # Only codes that are identifiers rather than names may lead a longer string:
        # for HRCS Health Categories (code == name) "Ear infections" must not become "Ear".
        # Longest first so that "PE10 ..." is not read as "PE1".
        prefix_codes = tuple(
            sorted(
                ((_fold(lab.code), lab.code) for lab in labels if _fold(lab.code) != _fold(lab.name)),
                key=lambda pair: -len(pair[0]),
            )
        )
        setattr_ = object.__setattr__
        setattr_(self, "name", name)
        setattr_(self, "title", title or name)
        setattr_(self, "version", version)
        setattr_(self, "source", source)
        setattr_(self, "license_note", license_note)
        setattr_(self, "multi_label", bool(multi_label))
        setattr_(self, "group_taxonomy", group_taxonomy)
        setattr_(self, "_groups", groups)
        setattr_(self, "_labels", tuple(labels))
        setattr_(self, "_by_code", by_code)
        setattr_(self, "_code_index", code_index)
        setattr_(self, "_name_index", name_index)
        setattr_(self, "_prefix_codes", prefix_codes)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Taxonomy is immutable; cannot set {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"Taxonomy is immutable; cannot delete {key!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Taxonomy":
        """Build a taxonomy from the JSON format of the files in ``data/``.

        Labels may be objects (``{"code", "name", "group", "aliases", "legacy"}``)
        or, for quick user taxonomies, plain strings used as both code and name.
        Unknown top-level keys (e.g. ``archive_groups`` in ``arxiv.json``) are ignored.
        """
        if "name" not in data or "labels" not in data:
            raise ValueError("A taxonomy needs at least 'name' and 'labels'")
        labels: List[Label] = []
        for raw in data["labels"]:
            if isinstance(raw, str):
                labels.append(Label(code=raw, name=raw))
                continue
            if "code" not in raw:
                raise ValueError(f"Taxonomy {data['name']!r}: label without 'code': {raw!r}")
            labels.append(
                Label(
                    code=str(raw["code"]),
                    name=str(raw.get("name") or raw["code"]),
                    group=None if raw.get("group") is None else str(raw["group"]),
                    aliases=tuple(str(a) for a in raw.get("aliases", ())),
                    legacy=bool(raw.get("legacy", False)),
                    description=" ".join(str(raw.get("description") or "").split()),
                    descriptors=tuple(" ".join(str(d).split()) for d in raw.get("descriptors", ()) if str(d).strip()),
                )
            )
        return cls(
            str(data["name"]),
            tuple(labels),
            title=str(data.get("title") or data["name"]),
            version=str(data.get("version", "")),
            source=str(data.get("source", "")),
            license_note=str(data.get("license_note", "")),
            multi_label=bool(data.get("multi_label", True)),
            group_taxonomy=data.get("group_taxonomy"),
            groups=data.get("groups") or {},
        )

    def to_dict(self) -> Dict[str, Any]:
        """The JSON format of :meth:`from_dict` (a head saves a user taxonomy with itself)."""
        labels = []
        for label in self._labels:
            entry: Dict[str, Any] = {"code": label.code, "name": label.name}
            for key, value, empty in (("group", label.group, None), ("aliases", list(label.aliases), []),
                                      ("legacy", label.legacy, False), ("description", label.description, ""),
                                      ("descriptors", list(label.descriptors), [])):
                if value != empty:
                    entry[key] = value
            labels.append(entry)
        return {
            "name": self.name, "title": self.title, "version": self.version, "source": self.source,
            "license_note": self.license_note, "multi_label": self.multi_label,
            "group_taxonomy": self.group_taxonomy, "groups": dict(self._groups), "labels": labels,
        }

    # ------------------------------------------------------------------ container
    @property
    def groups(self) -> Dict[str, str]:
        """Group code -> group name (a copy; the taxonomy itself is shared)."""
        return dict(self._groups)

    @property
    def codes(self) -> Tuple[str, ...]:
        """All codes in canonical order (the order of the data file)."""
        return tuple(label.code for label in self._labels)

    @property
    def labels(self) -> Tuple[Label, ...]:
        return self._labels

    @property
    def described(self) -> bool:
        """Whether every label has a description (a head can then score without training data)."""
        return bool(self._labels) and all(label.description for label in self._labels)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._labels)

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes)

    def __repr__(self) -> str:
        return f"Taxonomy(name={self.name!r}, labels={len(self)}, groups={len(self._groups)})"

    # ------------------------------------------------------------------ lookups
    def label(self, code: str) -> Label:
        """The :class:`Label` of a canonical code (use :meth:`normalise` for raw spellings)."""
        try:
            return self._by_code[code]
        except (KeyError, TypeError):
            raise self._error(code, "is not a code of") from None

    def name_of(self, code: str) -> str:
        return self.label(code).name

    def group_of(self, code: str) -> Optional[str]:
        return self.label(code).group

    def cat_key(self, code: str) -> str:
        """The ``doc.cats`` key of a code, e.g. ``"erc/PE6"``."""
        return f"{self.name}/{self.label(code).code}"

    def group_key(self, code: str) -> Optional[str]:
        """The ``doc.cats`` key of a code's group, e.g. ``"erc_domain/PE"``; None without groups."""
        group = self.group_of(code)
        if group is None or not self.group_taxonomy:
            return None
        return f"{self.group_taxonomy}/{group}"

    def code_from_cat_key(self, key: str) -> str:
        """Inverse of :meth:`cat_key`; strict, because keys are machine-written."""
        prefix = f"{self.name}/"
        if not isinstance(key, str) or not key.startswith(prefix):
            raise ValueError(
                f"{key!r} is not a doc.cats key of taxonomy {self.name!r} (expected {prefix!r}...)"
            )
        return self.label(key[len(prefix):]).code

    # ------------------------------------------------------------------ normalise
    def normalise(self, raw: str) -> str:
        """Map a raw spelling of one label onto its canonical code.

        Accepted: the code, its name or an alias in any case/whitespace/"&" variant,
        a namespaced key (``"erc/PE6"``), or a code followed by a name
        (``"6.1 Pharmaceuticals"``, ``"6.1: Pharmaceuticals"``). In the last form
        the code decides, because sources word the same label differently ("treatment
        evaluation" vs "evaluation of treatments"); but if the trailing text names a
        *different* label the input is rejected, since that is usually an unsplit
        multi-label string such as ``"cs.CL cs.AI"``.

        Raises:
            UnknownLabelError: no label, or several labels (e.g. "Pharmaceuticals"
                is both 5.1 and 6.1) match.
        """
        if not isinstance(raw, str):
            raise TypeError(f"normalise() expects a string, got {type(raw).__name__}")
        text = raw.strip()
        if text in self._by_code:
            return text
        prefix = f"{self.name}/"
        if text.startswith(prefix):
            text = text[len(prefix):]
        matches = self._resolve(_fold(text))
        if len(matches) == 1:
            return next(iter(matches))
        if matches:
            ordered = [code for code in self.codes if code in matches]
            listing = ", ".join(self._describe(code) for code in ordered)
            raise UnknownLabelError(
                f"Ambiguous label {raw!r} for taxonomy {self.name!r}: it matches {listing}. "
                "Pass the code instead (and split multi-label strings first).",
                taxonomy=self.name,
                raw=raw,
                suggestions=tuple(ordered[:_MAX_SUGGESTIONS]),
            )
        raise self._error(raw, "is not a label of")

    def _resolve(self, folded: str) -> FrozenSet[str]:
        """Codes that a folded string can stand for (empty, one, or several if ambiguous)."""
        if not folded:
            return frozenset()
        if folded in self._code_index:
            return frozenset({self._code_index[folded]})
        if folded in self._name_index:
            return self._name_index[folded]
        for folded_code, code in self._prefix_codes:
            if folded.startswith(folded_code) and folded[len(folded_code):][:1] in _CODE_NAME_SEPARATORS:
                rest = folded[len(folded_code):].lstrip(" :")
                named = self._resolve(rest)
                if named and code not in named:
                    return named | {code}
                return frozenset({code})
        return frozenset()

    def _describe(self, code: str) -> str:
        label = self._by_code[code]
        group = f"; group {label.group}" if label.group is not None else ""
        return f"{code} ({label.name}{group})" if label.name != code else code

    def _error(self, raw: Any, what: str) -> UnknownLabelError:
        """An error naming the taxonomy, the raw value and up to 3 close matches."""
        candidates: Dict[str, str] = {}
        for label in self._labels:
            for spelling in (label.code, label.name, *label.aliases):
                candidates.setdefault(_fold(spelling), label.code)
        suggestions: List[str] = []
        folded = _fold(raw) if isinstance(raw, str) else ""
        for key in difflib.get_close_matches(folded, list(candidates), n=10, cutoff=0.6):
            if candidates[key] not in suggestions:
                suggestions.append(candidates[key])
        suggestions = suggestions[:_MAX_SUGGESTIONS]
        hint = (
            "Close matches: " + ", ".join(self._describe(code) for code in suggestions) + "."
            if suggestions
            else f"It has {len(self)} labels; see load_taxonomy({self.name!r}).codes."
        )
        # Sources often carry a group column next to the label column (NIHR's
        # "6. Evaluation of ..."); say so rather than only "unknown".
        for group, group_name in self._groups.items():
            spellings = (group, group_name, f"{group} {group_name}", f"{group}. {group_name}")
            if folded and folded in {_fold(s) for s in spellings}:
                hint = (
                    f"It names the group {group!r} ({group_name}) of {self.group_taxonomy!r}, "
                    f"not a label. {hint}"
                )
                break
        return UnknownLabelError(
            f"{raw!r} {what} taxonomy {self.name!r}. {hint}",
            taxonomy=self.name,
            raw=str(raw),
            suggestions=tuple(suggestions),
        )


class TaxonomyFileError(ValueError):
    """A taxonomy file that cannot be read: the message names the file and, where it can, the line."""

    def __init__(self, path: Union[str, "os.PathLike[str]"], message: str, line: Optional[int] = None) -> None:
        where = f"{os.fspath(path)}, line {line}" if line is not None else os.fspath(path)
        super().__init__(f"Invalid taxonomy file {where}: {message}")
        self.path = os.fspath(path)
        self.line = line


CSV_COLUMNS = ("code", "name", "description")


def _read_csv_taxonomy(path: Path, text: str) -> Taxonomy:
    """A CSV taxonomy: a header with ``code, name, description`` (any order, any case)
    and optionally ``group``; one label per row. Errors name the file's line."""
    reader = csv.reader(io.StringIO(text))
    header_line = None
    header: List[str] = []
    for row in reader:
        if any(cell.strip() for cell in row):
            header_line, header = reader.line_num, [cell.strip().lower() for cell in row]
            break
    if header_line is None:
        raise TaxonomyFileError(path, "the file is empty (expected a header with code, name, description)")
    missing = [column for column in CSV_COLUMNS if column not in header]
    if missing:
        raise TaxonomyFileError(
            path, f"the header has no {', '.join(repr(c) for c in missing)} column "
            f"(found {', '.join(repr(c) for c in header)}; expected code, name, description and optionally group)",
            header_line,
        )
    column = {name: header.index(name) for name in (*CSV_COLUMNS, "group") if name in header}
    labels: List[Dict[str, Any]] = []
    seen: Dict[str, int] = {}
    groups: Dict[str, str] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise TaxonomyFileError(path, f"{len(row)} fields where the header has {len(header)}", line)
        code, name, description = (row[column[c]].strip() for c in CSV_COLUMNS)
        if not code:
            raise TaxonomyFileError(path, "empty code", line)
        if code in seen:
            raise TaxonomyFileError(path, f"duplicate code {code!r} (first on line {seen[code]})", line)
        if not description:
            raise TaxonomyFileError(path, f"label {code!r} has no description", line)
        seen[code] = line
        group = row[column["group"]].strip() if "group" in column else ""
        if group:
            groups.setdefault(group, group)
        labels.append({"code": code, "name": name or code, "description": description, "group": group or None})
    if not labels:
        raise TaxonomyFileError(path, "no labels below the header", header_line)
    data = {"name": path.stem, "title": path.stem, "source": str(path.name), "labels": labels}
    if groups:
        data.update(groups=groups, group_taxonomy=f"{path.stem}_group")
    try:
        return Taxonomy.from_dict(data)
    except ValueError as err:
        raise TaxonomyFileError(path, str(err)) from err


def _json_code_lines(text: str) -> Dict[str, List[int]]:
    """Lines of every ``"code": "..."`` in a JSON text, per code, for error messages."""
    import re

    lines: Dict[str, List[int]] = {}
    for match in re.finditer(r'"code"\s*:\s*"((?:[^"\\]|\\.)*)"', text):
        lines.setdefault(json.loads(f'"{match.group(1)}"'), []).append(text.count("\n", 0, match.start()) + 1)
    return lines


def _read_json_taxonomy(path: Path, text: str) -> Taxonomy:
    if not text.strip():
        raise TaxonomyFileError(path, "the file is empty (expected a JSON object with 'labels')")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise TaxonomyFileError(path, f"not valid JSON ({err.msg}, column {err.colno})", err.lineno) from err
    if isinstance(data, list):
        data = {"labels": data}
    if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
        raise TaxonomyFileError(path, "expected an object with a 'labels' list (or a list of labels)")
    if not data["labels"]:
        raise TaxonomyFileError(path, "'labels' is empty")
    data.setdefault("name", path.stem)
    lines = _json_code_lines(text)
    seen = set()
    for raw in data["labels"]:
        code = raw.get("code") if isinstance(raw, dict) else raw
        if code in seen:
            where = lines.get(str(code), [])
            first = f" (first on line {where[0]})" if where else ""
            raise TaxonomyFileError(path, f"duplicate code {code!r}{first}", where[1] if len(where) > 1 else None)
        seen.add(code)
    try:
        return Taxonomy.from_dict(data)
    except (ValueError, TypeError, AttributeError) as err:
        raise TaxonomyFileError(path, str(err)) from err


def read_taxonomy_file(path: Union[str, "os.PathLike[str]"]) -> Taxonomy:
    """A user taxonomy from a ``.json`` file (the packaged format) or a ``.csv`` file
    (``code, name, description`` and optionally ``group``; its name is the file's stem).

    Raises:
        TaxonomyFileError: the file is missing, empty or malformed (a duplicate code,
            a missing column, a label without a description in a CSV file); the
            message names the file and the line.
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise TaxonomyFileError(path, "file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise TaxonomyFileError(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from err
    if path.suffix.lower() == ".csv":
        return _read_csv_taxonomy(path, text)
    return _read_json_taxonomy(path, text)


@lru_cache(maxsize=None)
def load_taxonomy(name: Union[str, "os.PathLike[str]"]) -> Taxonomy:
    """Load a packaged taxonomy by name, or a user taxonomy from a JSON or CSV file.

    Args:
        name: one of :data:`TAXONOMY_NAMES`, or a path to a JSON file in the same
            format as the packaged ones (only ``name`` and ``labels`` are required)
            or to a CSV file (:func:`read_taxonomy_file`).

    Cached, because pipeline components, scorers and converters all ask for the
    same taxonomies; the returned object is immutable so sharing it is safe. A
    changed user file is therefore only re-read in a new process.
    """
    if isinstance(name, str) and name in TAXONOMY_NAMES:
        text = resources.files(__name__).joinpath("data").joinpath(f"{name}.json").read_text(encoding="utf-8")
        return Taxonomy.from_dict(json.loads(text))
    path = Path(os.fspath(name))
    if path.suffix.lower() in (".json", ".csv") or path.is_file():
        return read_taxonomy_file(path)
    raise ValueError(
        f"Unknown taxonomy {str(name)!r}: expected one of {', '.join(TAXONOMY_NAMES)} "
        "or a path to a .json or .csv taxonomy file"
    )
