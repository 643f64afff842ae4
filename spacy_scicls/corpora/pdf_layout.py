"""Reader papers laid out as a PDF-to-text tool gives them, for training the heading-line scorer.

The readers give a paper one line per paragraph, headings on lines of their
own; GROBID's training TEI (:func:`.plain_text.tei_plain_text`) gives the
body of a PDF one printed line per line: paragraphs wrapped at the column
width (about 80-125 characters on a one-column page, 45-70 on a two-column
page), words broken with a hyphen now and then, long headings wrapped,
figure and table captions as wrapped blocks (often at the page width),
table cells one per line, and figures and tables set in the middle of a
paragraph where the page broke. This module lays a reader paper out the
same way, so that many more papers in that layout can be trained on:

- :func:`reader_blocks` turns a reader doc into :class:`Block` s (headings
  with their level, paragraphs); the title and the abstract are left out, as
  GROBID's body text starts after them.
- :func:`jats_floats` and :func:`unarxive_floats` read the figure and table
  captions (and a JATS table's cells and footnotes) from the source files,
  which the readers leave out of the text; :func:`render_unarxive_markers`
  writes unarXive's ``{{cite:...}}`` and ``{{formula:...}}`` markers as a PDF
  shows them (``[3]``, the formula's LaTeX without its commands).
- :func:`draw_style` draws a page style from a seeded generator (column
  width, hyphenation, capitalised top-level headings, run-in sub-headings,
  caption width, table rows joined or not) and :func:`lay_out` writes the
  blocks as lines in that style, returning the lines and the indices of the
  heading lines.

Nothing is invented: every word of the output is a word of the source
(a run-in heading gets a closing full stop and top-level headings may be set
in capitals, as journals print them; a line break may split a word with a
hyphen). The same blocks and seed give the same lines.
"""
import json
import re
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

import numpy

from ..readers._build import clean as _clean
from ..readers._safe_xml import parse_xml
from ..readers.json_formats import resolve_unarxive_markers
from .printed import PrintedBlock, flatten

_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+\*?|\\.")
_LATEX_NOISE = re.compile(r"[{}$^_&~]")
_BREAKABLE = re.compile(r"^[A-Za-z]{6,}[,.;:]?$")

#: Kinds of :class:`Block`.
KINDS = ("heading", "paragraph", "caption", "table")
#: The ways a line break joins two lines again (see :func:`wrap` and :func:`unwrap`).
BREAKS = ("space", "hyphen", "at_hyphen")


@dataclass(frozen=True)
class Block:
    """A part of a paper: a ``heading`` (with its ``level``, 1 for a top-level
    section), a ``paragraph``, a ``caption`` (a figure's or a table's, with
    its label) or a ``table`` (``cells``: rows of cell texts)."""

    kind: str
    text: str = ""
    level: int = 1
    cells: Tuple[Tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown block kind {self.kind!r}; kinds are {', '.join(KINDS)}")


@dataclass(frozen=True)
class PageStyle:
    """How one paper is laid out (see :func:`draw_style`)."""

    width: int = 60
    jitter: int = 3
    hyphen_rate: float = 0.3
    caption_width: int = 120
    upper_top_headings: bool = False
    run_in_subheadings: bool = False
    join_table_rows: float = 0.3
    float_in_paragraph: float = 0.6


def draw_style(rng: numpy.random.Generator) -> PageStyle:
    """A page style drawn from ``rng``: two columns (width 45-70 characters)
    three times in five, else one column (80-125), as in GROBID's training
    papers; a caption as wide as the page (twice the column) or as the column;
    hyphenation, capitals and run-in sub-headings in some papers only."""
    two_column = rng.random() < 0.6
    width = int(rng.integers(45, 71)) if two_column else int(rng.integers(80, 126))
    caption_width = int(min(2 * width + rng.integers(0, 20), 160)) if two_column and rng.random() < 0.7 else width
    return PageStyle(
        width=width,
        jitter=int(rng.integers(0, width // 25 + 1)),
        hyphen_rate=float(rng.choice([0.0, 0.15, 0.4, 0.7])),
        caption_width=caption_width,
        upper_top_headings=bool(rng.random() < 0.35),
        run_in_subheadings=bool(rng.random() < 0.25),
        join_table_rows=float(rng.choice([0.0, 0.3, 0.8])),
        float_in_paragraph=float(rng.uniform(0.3, 0.9)),
    )


def wrap(text: str, width: int, rng: Optional[numpy.random.Generator] = None, hyphen_rate: float = 0.0,
         first_width: Optional[int] = None, jitter: int = 0) -> Tuple[List[str], List[str]]:
    """``(lines, breaks)``: ``text`` wrapped greedily into lines of at most
    ``width`` characters (``first_width`` for the first line; each line's width
    moved by up to ``jitter`` characters either way, as a proportional font
    fits more or fewer letters), and how each break joins again
    (:data:`BREAKS`, one fewer than the lines): ``space``; ``hyphen``, a word
    of six letters or more split with an added hyphen (with probability
    ``hyphen_rate`` when it does not fit); ``at_hyphen``, a hyphenated word
    split after one of its own hyphens. A word longer than a line gets a line
    of its own. :func:`unwrap` gives ``text`` back (white space collapsed)."""
    words = _clean(text).split(" ") if _clean(text) else []
    if not words:
        return [], []
    if (hyphen_rate or jitter) and rng is None:
        raise ValueError("hyphenation and jitter need a random generator")
    lines: List[str] = []
    breaks: List[str] = []
    current = ""

    def limit() -> int:
        base = first_width if (first_width is not None and not lines) else width
        if jitter:
            base += int(rng.integers(-jitter, jitter + 1))
        return max(base, 10)

    room = limit()
    queue = deque(words)
    while queue:
        word = queue.popleft()
        candidate = word if not current else current + " " + word
        if len(candidate) <= room:
            current = candidate
            continue
        free = room - len(current) - (1 if current else 0)
        head = tail = None
        kind = ""
        cut = word.rfind("-", 0, max(free, 0))
        if 0 < cut < len(word) - 1:
            head, tail, kind = word[: cut + 1], word[cut + 1 :], "at_hyphen"
        elif hyphen_rate and _BREAKABLE.match(word) and free >= 4 and rng.random() < hyphen_rate:
            letters = len(word.rstrip(",.;:"))
            top = min(free - 1, letters - 3)
            if top >= 3:
                split = int(rng.integers(3, top + 1))
                head, tail, kind = word[:split] + "-", word[split:], "hyphen"
        if head is not None:
            lines.append(head if not current else current + " " + head)
            breaks.append(kind)
            queue.appendleft(tail)
        elif not current:
            current = word  # longer than a line and not to be split: a line of its own
            continue
        else:
            lines.append(current)
            breaks.append("space")
            queue.appendleft(word)
        current = ""
        room = limit()
    if current:
        lines.append(current)
    return lines, breaks


def unwrap(lines: Sequence[str], breaks: Sequence[str]) -> str:
    """The text that :func:`wrap` wrapped: lines joined with a space, or
    without one after a hyphen of a word split at its own hyphen, or without
    the added hyphen of a split word."""
    if len(breaks) != max(len(lines) - 1, 0):
        raise ValueError(f"{len(breaks)} breaks for {len(lines)} lines")
    out = lines[0] if lines else ""
    for line, kind in zip(lines[1:], breaks):
        if kind == "space":
            out += " " + line
        elif kind == "at_hyphen":
            out += line
        elif kind == "hyphen":
            if not out.endswith("-"):
                raise ValueError("a 'hyphen' break after a line that does not end in a hyphen")
            out = out[:-1] + line
        else:
            raise ValueError(f"unknown break {kind!r}")
    return out


def _heading_text(block: Block, style: PageStyle) -> str:
    text = block.text
    if style.upper_top_headings and block.level <= 1:
        text = text.upper()
    return text


def lay_out(blocks: Sequence[Block], seed: int, style: Optional[PageStyle] = None,
            floats: Sequence[Union[Block, Sequence[Block]]] = ()) -> Tuple[List[str], Set[int]]:
    """``(lines, gold)``: the blocks laid out as PDF text in ``style`` (drawn
    with :func:`draw_style` from ``seed`` when not given), one printed line
    per line, no empty lines, and the indices of the lines of the headings
    (:func:`lay_out_blocks`, flattened)."""
    return flatten(lay_out_blocks(blocks, seed, style, floats))


def lay_out_blocks(blocks: Sequence[Block], seed: int, style: Optional[PageStyle] = None,
                   floats: Sequence[Union[Block, Sequence[Block]]] = ()) -> List[PrintedBlock]:
    """The blocks laid out as PDF text in ``style`` (drawn with
    :func:`draw_style` from ``seed`` when not given): one :class:`PrintedBlock`
    per heading, paragraph, caption and table, its lines as printed.

    ``floats`` (captions and tables, in order; a sequence of blocks, such as
    a table's caption, cells and footnotes, stays together) are set in order
    among the paragraphs, spread over the paper, each either between two
    paragraphs or in the middle of one (where a page or column broke: the
    paragraph is then two printed blocks). A heading is wrapped
    at the column width like a paragraph, without hyphenation; a run-in
    sub-heading (``style.run_in_subheadings``, level 2 or deeper) ends with a
    full stop and the first line of its paragraph is shorter, as the rest of
    its printed line."""
    rng = numpy.random.default_rng(seed)
    floats = [(item,) if isinstance(item, Block) else tuple(item) for item in floats]
    if style is None:
        style = draw_style(rng)
    paragraphs = [k for k, b in enumerate(blocks) if b.kind == "paragraph"]
    # Where each float goes: after paragraph slot[j] (or before the first block when there is none),
    # at line offset[j] of it (None: after its last line).
    slots: List[int] = sorted(rng.choice(paragraphs, size=len(floats)).tolist()) if paragraphs and floats else \
        [-1] * len(floats)
    in_paragraph = [bool(rng.random() < style.float_in_paragraph) for _ in floats]
    out: List[PrintedBlock] = []
    pending = list(range(len(floats)))

    def emit(kind: str, lines: Sequence[str]) -> None:
        if lines:
            out.append(PrintedBlock(kind, tuple(lines)))

    def emit_float(group: Tuple[Block, ...]) -> None:
        for block in group:
            emit_block(block)

    def emit_block(block: Block) -> None:
        if block.kind == "caption":
            emit("caption", wrap(block.text, style.caption_width, rng, 0.0, jitter=style.jitter)[0])
        elif block.kind == "table":
            table: List[str] = []
            for row in block.cells:
                cells = [c for c in (_clean(c) for c in row) if c]
                if not cells:
                    continue
                if rng.random() < style.join_table_rows:
                    table.extend(wrap(" ".join(cells), style.caption_width)[0])
                else:
                    for cell in cells:
                        table.extend(wrap(cell, style.width)[0])
            emit("table", table)
        else:
            raise ValueError(f"a float is a caption or a table, not a {block.kind}")

    while pending and slots[pending[0]] == -1:
        emit_float(floats[pending.pop(0)])
    first_width: Optional[int] = None
    for k, block in enumerate(blocks):
        if block.kind == "heading":
            text = _heading_text(block, style)
            run_in = (style.run_in_subheadings and block.level >= 2 and k + 1 < len(blocks)
                      and blocks[k + 1].kind == "paragraph")
            if run_in and text[-1:] not in ".:?!":
                text += "."
            heading_lines = wrap(text, style.width)[0]
            emit("heading", heading_lines)
            first_width = style.width - len(heading_lines[-1]) - 1 if run_in and heading_lines else None
            continue
        if block.kind != "paragraph":
            emit_block(block)
            first_width = None
            continue
        body = wrap(block.text, style.width, rng, style.hyphen_rate,
                    first_width=max(first_width, 12) if first_width is not None else None, jitter=style.jitter)[0]
        first_width = None
        here = [j for j in pending if slots[j] == k]
        cut = len(body)
        if here and len(body) > 2 and in_paragraph[here[0]]:
            cut = int(rng.integers(1, len(body)))
        emit("paragraph", body[:cut])
        for j in here:
            emit_float(floats[j])
            pending.remove(j)
        emit("paragraph", body[cut:])
    for j in pending:
        emit_float(floats[j])
    return out


def reader_blocks(doc, render=None) -> List[Block]:
    """The body of a reader doc as blocks: each section of ``doc.spans["sections"]``
    its heading (with ``span._.section_level``) and its paragraphs (the text
    between blank lines), leaving out the title and the abstract (GROBID's
    body text starts after them). ``render``: a function applied to each
    paragraph and heading (:func:`render_unarxive_markers`)."""
    render = render or (lambda text: text)
    blocks: List[Block] = []
    text = doc.text
    for span in doc.spans["sections"]:
        if span.label_ == "abstract":
            continue
        body = text[span.start_char : span.end_char]
        heading = span._.heading
        if heading:
            first, _, body = body.partition("\n")
            heading_text = _clean(render(first))
            if heading_text:
                blocks.append(Block("heading", heading_text, level=int(span._.section_level or 1)))
        for paragraph in body.split("\n\n"):
            paragraph = _clean(render(paragraph))
            if paragraph:
                blocks.append(Block("paragraph", paragraph))
    return blocks


def _xml_text(element) -> str:
    return _clean("".join(element.itertext())) if element is not None else ""


def jats_floats(source: Union[str, Path, bytes]) -> List[List[Block]]:
    """The figures and tables of a JATS file in document order, each a list of
    blocks: for a figure its caption (label, title and text: "Fig 1. Title.
    Text."), for a table its caption, its cells row by row and its footnotes."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    root = parse_xml(data)
    out: List[List[Block]] = []
    body = root.find(".//body")
    if body is None:
        return out
    for element in body.iter():
        if element.tag not in ("fig", "table-wrap"):
            continue
        label = _xml_text(element.find("label"))
        caption = element.find("caption")
        parts = [label] if label else []
        if caption is not None:
            title = _xml_text(caption.find("title"))
            if title:
                parts.append(title)
            parts.extend(_xml_text(p) for p in caption.findall("p"))
        text = _clean(" ".join(p for p in parts if p))
        if label and text.startswith(label + " ") and not label.endswith((".", ":")):
            text = label + ". " + text[len(label) + 1 :]
        group = [Block("caption", text)] if text else []
        if element.tag == "table-wrap":
            rows = tuple(tuple(_xml_text(cell) for cell in tr if cell.tag in ("td", "th")) for tr in element.iter("tr"))
            rows = tuple(row for row in rows if any(row))
            if rows:
                group.append(Block("table", cells=rows))
            for foot in element.iter("table-wrap-foot"):
                note = _xml_text(foot)
                if note:
                    group.append(Block("caption", note))
        if group:
            out.append(group)
    return out


def _latex_as_text(latex: str) -> str:
    return _clean(_LATEX_NOISE.sub(" ", _LATEX_COMMAND.sub(" ", latex or ""))).replace(" ", "")


def render_unarxive_markers(text: str, record: Dict, numbers: Optional[Dict[str, int]] = None) -> str:
    """unarXive's markers as a PDF shows them: the reader's resolution
    (``{{cite:...}}`` as ``[n]``, other markers than formulas left out) with a
    formula's LaTeX without its commands and braces."""
    return resolve_unarxive_markers(text, record, numbers, formula=_latex_as_text)


def unarxive_floats(record: Dict) -> List[Block]:
    """The captions of an unarXive record's figures and tables (``ref_entries``),
    numbered in order of each kind as LaTeX prints them ("Figure 2: ...")."""
    out: List[Block] = []
    counts = {"figure": 0, "table": 0}
    for entry in (record.get("ref_entries") or {}).values():
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind not in counts:
            continue
        counts[kind] += 1
        caption = _clean(str(entry.get("caption") or ""))
        if caption and caption != "NO_CAPTION":
            out.append(Block("caption", f"{kind.capitalize()} {counts[kind]}: {render_unarxive_markers(caption, record)}"))
    return out


def unarxive_records(paths: Iterable[Union[str, Path]]) -> Dict[str, Dict]:
    """unarXive records by ``paper_id``, from JSON Lines files."""
    out: Dict[str, Dict] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    out[str(record.get("paper_id") or "")] = record
    return out


def paper_seed(name: str, copy: int, seed: int = 0) -> int:
    """A seed for copy ``copy`` of the paper called ``name``, the same on every machine and run."""
    return zlib.crc32(f"{name}\t{copy}\t{seed}".encode("utf-8"))
