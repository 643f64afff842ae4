"""A paper as printed: blocks of lines, the unit that every plain-text rendering starts from."""
from dataclasses import dataclass
from typing import List, Sequence, Set, Tuple

#: Kinds of :class:`PrintedBlock`: a heading; a paragraph (or the part of one
#: before or after a float); a caption; a table's text; anything else that a
#: PDF-to-text tool prints in the body (a formula, the text inside a figure, a list);
#: an entry of the reference list.
PRINTED_KINDS = ("heading", "paragraph", "caption", "table", "other", "reference")


@dataclass(frozen=True)
class PrintedBlock:
    """One block of a printed page: its ``kind`` and its ``lines`` as printed."""

    kind: str
    lines: Tuple[str, ...]

    def __post_init__(self) -> None:
        if self.kind not in PRINTED_KINDS:
            raise ValueError(f"unknown printed block kind {self.kind!r}; kinds are {', '.join(PRINTED_KINDS)}")


def flatten(blocks: Sequence[PrintedBlock]) -> Tuple[List[str], Set[int]]:
    """``(lines, gold)``: the blocks' lines one after the other, no empty lines,
    and the indices of the heading lines."""
    lines: List[str] = []
    gold: Set[int] = set()
    for block in blocks:
        if block.kind == "heading":
            gold.update(range(len(lines), len(lines) + len(block.lines)))
        lines.extend(block.lines)
    return lines, gold
