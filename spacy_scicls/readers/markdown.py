"""A Markdown paper into a :class:`Paper`.

ATX headings (``# Title``, ``## 2 Methods``) and setext headings (a line
underlined with ``===`` or ``---``) outside fenced code blocks make the
sections, their depth from the number of ``#``. A single level-1 heading
at the top is the title; a section headed "Abstract" is the abstract.
"""
import re
from typing import List, Tuple

from ._build import Paper, clean

_ATX = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def _blocks(text: str) -> List[Tuple[str, object]]:
    """('heading', (level, text)) and ('paragraph', text) items in order."""
    items: List[Tuple[str, object]] = []
    lines = text.splitlines()
    paragraph: List[str] = []
    in_fence = False

    def flush() -> None:
        if paragraph:
            items.append(("paragraph", " ".join(paragraph)))
            paragraph.clear()

    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            paragraph.append(line)
            continue
        if in_fence:
            paragraph.append(line)
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            items.append(("heading", (len(atx.group(1)), atx.group(2))))
        elif _SETEXT.match(line) and len(paragraph) == 1 and line.strip()[0] in "=-":
            heading = paragraph.pop()
            items.append(("heading", (1 if line.strip()[0] == "=" else 2, heading)))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
    flush()
    return items


def read_markdown(text: str, paper: Paper) -> Paper:
    items = _blocks(text)
    headings = [value for kind, value in items if kind == "heading"]
    title_used = False
    if headings and headings[0][0] == 1 and sum(1 for level, _ in headings if level == 1) == 1:
        first = next(i for i, (kind, _) in enumerate(items) if kind == "heading")
        if all(kind == "paragraph" for kind, _ in items[:first]) and first == 0:
            paper.title = headings[0][1]
            title_used = True
    in_abstract = False
    top = min((level for level, _ in headings[1 if title_used else 0 :]), default=1)
    for index, (kind, value) in enumerate(items):
        if kind == "heading":
            level, heading = value
            if title_used and index == 0:
                continue
            if clean(heading).lower().rstrip(":") in ("abstract", "summary") and not paper.sections:
                in_abstract = True
                continue
            in_abstract = False
            paper.add_section(heading, level - top + 1)
        elif in_abstract:
            paper.abstract.append(value)
        else:
            paper.add_paragraph(value)
    return paper
