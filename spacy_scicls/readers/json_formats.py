"""S2ORC (doc2json) and unarXive JSON records into a :class:`Paper`.

Both list body paragraphs with the name of the section they belong to;
consecutive paragraphs with the same section (and number) make one section.

S2ORC: ``paper_id``, ``title``, ``abstract`` (a list of paragraphs or a
string), ``body_text`` [{``text``, ``section``, ``sec_num``}],
``back_matter``; doc2json output wraps the parse in ``pdf_parse`` or
``latex_parse`` (older releases: ``grobid_parse``), with the title possibly
under ``metadata``.

unarXive: ``paper_id``, ``metadata`` (the arXiv record: ``title``,
``abstract``, ``categories``), ``abstract`` {``text``}, ``body_text``
[{``section``, ``sec_number``, ``sec_type``, ``content_type``, ``text``}].
unarXive writes formulas, citations and the places of figures and tables as
markers (``{{formula:<id>}}``, ``{{cite:<id>}}``, ``{{figure:<id>}}``);
:func:`resolve_unarxive_markers` puts the formula's LaTeX in place of its
marker and ``[n]`` in place of a citation (n counted by first citation, the
cited entries in that order in the paper's ``references`` metadata), and
leaves the places of floats out (their captions are not part of the
running text), so no identifier reaches the text.
"""
import re
from typing import Any, Callable, Dict, List, Optional

from ._build import Paper, clean

LEVELS = {"section": 1, "subsection": 2, "subsubsection": 3, "paragraph": 4}


def _require_dict(value: Any, what: str) -> Dict:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is a {type(value).__name__}, not a JSON object")
    return value


def _paragraph_list(value: Any, what: str) -> List[Dict]:
    if value is None:
        return []
    if isinstance(value, str):
        return [{"text": value}]
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise ValueError(f"{what} is a {type(value).__name__}, not a list of paragraphs")
    out = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            out.append({"text": item})
        elif isinstance(item, dict):
            out.append(item)
        else:
            raise ValueError(f"{what}[{i}] is a {type(item).__name__}, not a paragraph object")
    return out


def _level(number: Optional[str], sec_type: Optional[str]) -> int:
    if sec_type in LEVELS:
        return LEVELS[sec_type]
    number = (number or "").strip().strip(".")
    if number:
        return number.count(".") + 1
    return 1


def _add_paragraphs(paper: Paper, paragraphs: List[Dict], label: Optional[str] = None) -> None:
    current = object()
    for paragraph in paragraphs:
        section = clean(str(paragraph.get("section") or ""))
        number = clean(str(paragraph.get("sec_num") or paragraph.get("sec_number") or ""))
        key = (section, number)
        if key != current:
            heading = f"{number} {section}" if number and section and not section.startswith(number) else section
            paper.add_section(heading or None, _level(number, paragraph.get("sec_type")), label)
            current = key
        paper.add_paragraph(str(paragraph.get("text") or ""))


_UNARXIVE_MARKER = re.compile(r"\{\{([a-z]+):([^{}]*)\}\}")


def resolve_unarxive_markers(text: str, record: Dict, numbers: Optional[Dict[str, int]] = None,
                             formula: Optional[Callable[[str], str]] = None) -> str:
    """``text`` with unarXive's markers resolved from ``record``: a formula as
    ``formula(latex)`` (default: the LaTeX itself; ``[formula]`` when the record
    has none), a citation as ``[n]`` with ``n`` from ``numbers`` (citation id ->
    number, filled in order of first citation; share it over a paper's
    paragraphs), any other marker (the place of a figure or table) left out."""
    entries = record.get("ref_entries") if isinstance(record.get("ref_entries"), dict) else {}
    numbers = {} if numbers is None else numbers
    formula = formula or clean

    def resolve(match) -> str:
        kind, key = match.group(1), match.group(2)
        if kind == "cite":
            number = numbers.setdefault(key, len(numbers) + 1)
            return f"[{number}]"
        if kind == "formula":
            entry = entries.get(key)
            latex = entry.get("latex") if isinstance(entry, dict) else None
            return formula(str(latex)) if latex else "[formula]"
        return ""

    return _UNARXIVE_MARKER.sub(resolve, text)


def _references(record: Dict, numbers: Dict[str, int]) -> List[Optional[str]]:
    """The raw bibliography entries of the cited ids, in citation-number order
    (``None`` for an id the record's ``bib_entries`` does not hold)."""
    entries = record.get("bib_entries") if isinstance(record.get("bib_entries"), dict) else {}
    out: List[Optional[str]] = []
    for key in sorted(numbers, key=numbers.get):
        entry = entries.get(key)
        raw = entry.get("bib_entry_raw") if isinstance(entry, dict) else None
        out.append(clean(str(raw)) if raw else None)
    return out


def _categories(value: Any) -> List[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def read_s2orc(record: Dict, paper: Paper) -> Paper:
    record = _require_dict(record, "the record")
    parse = record
    for key in ("pdf_parse", "latex_parse", "grobid_parse"):
        if isinstance(record.get(key), dict) and record[key].get("body_text"):
            parse = record[key]
            break
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    paper.id = str(record.get("paper_id") or metadata.get("paper_id") or "") or None
    paper.title = record.get("title") or parse.get("title") or metadata.get("title")
    abstract = parse.get("abstract") or record.get("abstract") or metadata.get("abstract")
    paper.abstract = [str(p.get("text") or "") for p in _paragraph_list(abstract, "abstract")]
    paper.categories = _categories(metadata.get("categories") or record.get("categories") or metadata.get("mag_field_of_study"))
    if "body_text" not in parse:
        raise ValueError("has no body_text: not an S2ORC record")
    _add_paragraphs(paper, _paragraph_list(parse.get("body_text"), "body_text"))
    _add_paragraphs(paper, _paragraph_list(parse.get("back_matter"), "back_matter"), label="other")
    return paper


def read_unarxive(record: Dict, paper: Paper) -> Paper:
    record = _require_dict(record, "the record")
    if "body_text" not in record:
        raise ValueError("has no body_text: not an unarXive record")
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    paper.id = str(record.get("paper_id") or metadata.get("id") or "") or None
    paper.title = metadata.get("title") or record.get("title")
    abstract = record.get("abstract")
    if isinstance(abstract, dict):
        abstract = abstract.get("text")
    numbers: Dict[str, int] = {}
    paper.abstract = [resolve_unarxive_markers(str(p.get("text") or ""), record, numbers)
                      for p in _paragraph_list(abstract or metadata.get("abstract"), "abstract")]
    paper.categories = _categories(metadata.get("categories"))
    if record.get("discipline"):
        paper.extra["discipline"] = record["discipline"]
    body = [{**p, "text": resolve_unarxive_markers(str(p.get("text") or ""), record, numbers)}
            for p in _paragraph_list(record.get("body_text"), "body_text")]
    _add_paragraphs(paper, body)
    if numbers:
        paper.extra["references"] = _references(record, numbers)
    return paper
