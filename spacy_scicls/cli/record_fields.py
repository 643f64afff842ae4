"""Which fields of a CSV row, JSONL line or Parquet row hold a record's text and id.

Funders and bibliographic databases export the same two things, a title and an
abstract, under their own column names: NSF ``AwardTitle``/``AbstractNarration``,
NIH RePORTER ``PROJECT_TITLE``/``ABSTRACT_TEXT``, UKRI Gateway to Research
``Project Title``/``Abstract``, NIHR ``Project_Title``/``Scientific_Abstract``,
CORDIS (ERC and other EU projects) ``title``/``objective``. Without
``--text-columns``, a record's fields are matched against the names below with
case, spaces, ``_`` and ``-`` ignored, so that such an export is read as it
comes. ``--text-columns`` and ``--id-column`` always win.
"""
import re
from typing import Iterable, List, Optional, Sequence, Tuple

#: A field that holds the whole text (taken alone when present).
TEXT_NAMES = ("text", "fulltext", "documenttext")
#: Title fields, most specific last; the first one present is taken.
TITLE_NAMES = ("title", "projecttitle", "awardtitle", "articletitle", "papertitle", "granttitle")
#: Abstract fields, in order of preference (a scientific abstract before a lay summary).
ABSTRACT_NAMES = (
    "abstract",
    "abstracttext",
    "abstractnarration",
    "scientificabstract",
    "projectabstract",
    "awardabstract",
    "objective",
    "summary",
    "projectsummary",
    "plainenglishabstract",
    "laysummary",
)
#: Id fields, in order of preference.
ID_NAMES = (
    "id",
    "paperid",
    "docid",
    "recordid",
    "awardnumber",
    "awardid",
    "applicationid",
    "projectid",
    "projectreference",
    "projectnumber",
    "grantnumber",
    "grantid",
    "pmcid",
    "pmid",
    "doi",
)


def normalise(name: str) -> str:
    """A field name with case, spaces, ``_``, ``-`` and ``.`` ignored (``PROJECT_TITLE`` -> ``projecttitle``)."""
    return re.sub(r"[\s_.\-]+", "", str(name)).lower()


def _first(fields: Sequence[str], names: Sequence[str]) -> Optional[str]:
    by_name = {}
    for field in fields:
        by_name.setdefault(normalise(field), field)  # the first of two fields that read the same
    for name in names:
        if name in by_name:
            return by_name[name]
    return None


def text_fields(fields: Iterable[str]) -> Optional[Tuple[str, ...]]:
    """The fields that make a record's text when no ``--text-columns`` is given, in the order they
    are joined: a text field alone, else a title and an abstract field (either may be missing);
    ``None`` when the record has none of them."""
    fields = [f for f in fields if isinstance(f, str)]
    text = _first(fields, TEXT_NAMES)
    if text is not None:
        return (text,)
    found = tuple(f for f in (_first(fields, TITLE_NAMES), _first(fields, ABSTRACT_NAMES)) if f is not None)
    return found or None


def id_fields(fields: Iterable[str]) -> List[str]:
    """The fields tried, in order, for a record's id when no ``--id-column`` is given."""
    fields = [f for f in fields if isinstance(f, str)]
    by_name = {}
    for field in fields:
        by_name.setdefault(normalise(field), field)
    return [by_name[name] for name in ID_NAMES if name in by_name]
