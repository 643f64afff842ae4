"""Heading lines of plain text, scored from the line, its neighbours and its block.

A line of a PDF-to-text paper is a heading when it looks like one (short,
numbered, capitalised, a usual section name, no closing full stop) AND sits
like one: the line before it ends a paragraph, the line after it starts
one, it is a block of its own where the text sets empty lines between
blocks, and it is not one of many short lines in a row (a table, a list of
authors) nor page furniture (a running header, a page number).
:func:`line_features` turns each line into such cues, read past a
manuscript's line numbers (:func:`line_number_prefixes`); a small two-pass
network over them (:class:`HeadingLineModel`, weights in
``heading_lines.json``, made by ``scripts/train_heading_lines.py`` on many
renderings of the gold papers) gives each line a probability of being a
heading; its second pass also reads the text reflowed, each paragraph as one
line, since a long heading wrapped in a narrow column reads like a paragraph
line by line. The hand-written rules of :mod:`.rule_based` are one of its cues.
"""
import json
import math
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy
from spacy.util import registry

from .rule_based import _CAPTION, _MARKDOWN, _NUMBERED, KNOWN_HEADINGS, is_heading_line

DEFAULT_MODEL = Path(__file__).parent / "heading_lines.json"


class _AnyCase:
    """A pattern that ignores case (``re.IGNORECASE``), written in lower case, searched faster in ASCII
    text. With the flag, an ASCII character matches a letter of the pattern when its lower case is that
    letter (the other characters that the flag lets match it, such as the Kelvin sign for "k", are not
    ASCII); so in an ASCII string the pattern finds what the same pattern without the flag finds in the
    string lower-cased, several times faster (each character tried is compared as it is, not case-folded
    first). Any other string is searched with the flag."""

    def __init__(self, pattern: str) -> None:
        if pattern != pattern.lower():
            raise ValueError(f"write the pattern in lower case: {pattern!r}")
        self.pattern = re.compile(pattern, re.I)
        self._lower = re.compile(pattern)

    def found(self, text: str) -> bool:
        """Whether the pattern is found in ``text``."""
        return bool(self._lower.search(text.lower()) if text.isascii() else self.pattern.search(text))

    def count(self, text: str) -> int:
        """How many times the pattern is found in ``text`` (``len(findall)``)."""
        return len(self._lower.findall(text.lower()) if text.isascii() else self.pattern.findall(text))


_NUMBER_PREFIX = re.compile(r"^(?:(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.?|[A-H]\.)\s+|#{1,6}\s+|[■•▪|]\s*)")
_SECTION_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2}){0,3}\.?\s+\S")
_ROMAN = re.compile(r"^[IVX]{1,5}\.?\s+[A-Z]")
_STOP = {"the", "of", "and", "in", "to", "a", "for", "with", "on", "by", "is", "are", "was", "were", "we",
         "that", "this", "from", "as", "be", "at", "an", "or", "which", "it", "not"}
_VERBS = _AnyCase(r"\b(?:is|are|was|were|be|been|has|have|had|can|could|may|might|will|would|shows?|showed|"
                  r"found|used|using|we|our|these|this|there)\b")
_COMPOUND_LABEL = re.compile(r"(?:\(\s*[0-9]{1,3}[a-z]?\s*\)|\(\s*[a-z]\s*\)|\b[0-9]{1,3}[a-z]?|\([RS]\)-[0-9]{1,3}[a-z]?)\.?$")
_CHEMICAL = _AnyCase(r"(?:\d,\d|\b[nos]-|yl\b|yl\)|phenyl|methyl|ethyl|amino|hydroxy|oxo|oxy\b|carbonyl|pyr[ia]d|"
                     r"azol|triazol|amide|ate\b|ine\b|one\b|\(\d[rsez]\))")
_SHAPE_DIGITS = re.compile(r"\d+")
_SPLIT_WORD = re.compile(r"[a-z]-$")
_UNIT = re.compile(r"%|\b(?:mg|ml|kg|nm|mm|cm|µm|Hz|kDa)\b")
_PARENS_END = re.compile(r"\([^)]*\)\.?$")
_CONTINUES = re.compile(r"(?:[-\u2010\u2011,;:&]|\b(?:and|or|of|the|in|for|on|with|to|a|an|by|from))$", re.I)

FEATURES = (
    "bias_like", "rule", "known", "known_prefix", "numbered", "section_number", "roman", "markdown", "all_caps",
    "caption", "ends_period", "ends_colon", "ends_comma", "ends_hyphen", "ends_digit", "ends_paren",
    "starts_upper", "starts_lower", "starts_digit", "starts_symbol", "words_1", "words_2_3", "words_4_8",
    "words_9_14", "words_15", "rel_len", "short", "title_ratio", "digit_ratio", "symbol_ratio",
    "stop_ratio", "verbish", "single_token_caps", "prev_end_sentence", "prev_missing", "prev_rel_len",
    "prev_ends_hyphen", "prev_rule", "prev_short", "next_starts_upper", "next_rel_len", "next_missing",
    "next_short", "next_starts_lower", "short_density", "first_line", "has_equals", "has_percent_or_unit",
    "in_parens_end", "long_word", "next_rule", "prev_ends_colon",
    "ends_open_word", "prev_ends_open_word", "next_ends_period", "run_in_like", "bracket_ratio",
    "prev_all_caps_or_known", "next_continues_lower_short",
    "same_shape_prev", "same_shape_next", "similar_in_window", "ends_compound_label", "chemical",
    # The layout of the whole text, and the line's place in its block (the run of non-empty lines it is in):
    # with an empty line between blocks a heading is a block of its own, a paragraph's first line is not.
    "doc_blank_ratio", "doc_long_lines", "doc_line_numbered", "block_lines_1", "block_lines_2",
    "block_lines_3", "block_first", "block_last", "blank_before", "blank_after",
    # Page furniture: running headers and footers repeat, page numbers stand alone.
    "repeated", "page_number",
    # The paper's numbering: a section number whose predecessor ("2" before "3", "2" before "2.1", "2.1"
    # before "2.2") comes earlier in the text, or whose successor comes later; and the line's length against
    # the lines around it (a column's width changes at a float, a table, a two-column page).
    "number_follows", "number_followed", "local_rel_len",
    # A reference list's entries come after its heading ("References", "Literature cited"): numbered lines
    # there are entries, elsewhere they may be headings.
    "after_list_heading",
)
#: Cues of the previous and the next non-empty line that each line also reads
#: (as ``prev:<cue>`` and ``next:<cue>`` in :data:`FEATURES`), so that the
#: first pass sees its neighbours directly.
NEIGHBOUR_CUES = (
    "rule", "known", "numbered", "all_caps", "caption", "ends_period", "ends_colon", "starts_upper", "starts_lower",
    "words_1", "words_2_3", "words_4_8", "words_15", "rel_len", "short", "title_ratio", "digit_ratio", "stop_ratio",
    "verbish", "ends_open_word", "symbol_ratio", "run_in_like", "ends_compound_label", "chemical",
    "block_lines_1", "block_first", "block_last",
)
BASE_FEATURES = FEATURES
FEATURES = BASE_FEATURES + tuple(f"prev:{c}" for c in NEIGHBOUR_CUES) + tuple(f"next:{c}" for c in NEIGHBOUR_CUES)
#: Cues added to :data:`FEATURES` for the second pass: the first pass's
#: probability of the line and of its two non-empty neighbours on each side, and
#: of the lines that share its style.
PROBABILITY_CUES = ("p_self", "p_prev", "p_next", "p_prev2", "p_next2", "p_prev_x_open", "p_next_x_open",
                    "style_share", "style_mean")
#: Cues of the text read reflowed, added to the second pass: a PDF's lines cut a long heading in a narrow
#: column into lines that each read like a paragraph's, while the heading joined into one line reads like a
#: heading. :func:`paragraph_units` gathers the lines into paragraphs as a reflowing tool would; the first
#: pass scores each paragraph as one line (``unit_p``, and the paragraphs before and after it), and the
#: second pass also reads how many lines the paragraph has, whether the next one is longer (a heading stands
#: over a longer paragraph; a run of short paragraphs is a list that lost its bullets), and the least and
#: the most the first pass gives any of its lines alone.
UNIT_FEATURES = ("unit_p", "unit_prev_p", "unit_next_p", "unit_min_line_p", "unit_max_line_p", "unit_lines_1",
                 "unit_lines_2", "unit_lines_3_4", "unit_lines_5", "unit_first", "unit_next_longer")
#: Cues of a reference list, added to the second pass: whether the line comes after a line that the first
#: pass takes for a reference list's heading ("References", "Bibliography"), and how many marks of a
#: citation it holds (a URL, a DOI, a year in brackets or before a volume, "et al.", a page range): an
#: entry's lines are numbered one after the other and capitalised, as headings are, and a long numbered
#: heading reads like an entry once reflowed.
REFERENCE_CUES = ("after_reference_heading", "citation_marks")
#: All that the second pass reads besides :data:`FEATURES`.
CONTEXT_FEATURES = PROBABILITY_CUES + UNIT_FEATURES + REFERENCE_CUES
#: The cues whose values make a line's style for the second pass's document-level cues: the paper's
#: headings share a style (numbered or not, capitals, title case, a closing full stop), its other lines
#: seldom have it.
STYLE_CUES = ("numbered", "section_number", "roman", "markdown", "all_caps", "ends_period", "short", "starts_lower")


_LINE_NUMBER = re.compile(r"^\s*(\d{1,5})(?:\t|\s+)(?=\S)")
_PAGE_NUMBER = re.compile(r"^(?:(?:page|p\.)\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$"  # 3, Page 3 of 12, p. 3
                          r"|^[-\u2013\u2014]\s*\d{1,4}\s*[-\u2013\u2014]$", re.I)  # - 3 -


def line_number_prefixes(lines: Sequence[str]) -> List[int]:
    """How many characters of each line are a manuscript's line number (0 for none).

    A text is line-numbered when most of its non-empty lines start with a
    number followed by white space and those numbers count up by one from
    line to line (or start again at 1, on a new page); then each such
    number and the space after it are the prefix, and the line's own text
    ("3 Results" in "117 3 Results") starts after it. In any other text
    every prefix is 0, so a numbered heading keeps its number."""
    matches = [_LINE_NUMBER.match(line) if line.strip() else None for line in lines]
    nonempty = sum(1 for line in lines if line.strip())
    numbered = [(i, int(m.group(1))) for i, m in enumerate(matches) if m]
    if nonempty < 5 or len(numbered) < 0.6 * nonempty:
        return [0] * len(lines)
    steps = sum(1 for (_, a), (_, b) in zip(numbered, numbered[1:]) if b == a + 1 or b == 1)
    if steps < 0.8 * (len(numbered) - 1):
        return [0] * len(lines)
    return [m.end() if m else 0 for m in matches]


_HEADING_NUMBER = re.compile(r"^(?:(\d{1,2}(?:\.\d{1,2}){0,3})\.?|([IVX]{1,5})\.?|([A-H])\.)\s+[A-Za-z]")
_ROMAN_VALUES = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10,
                 "XI": 11, "XII": 12, "XIII": 13, "XIV": 14, "XV": 15}


def heading_number(text: str) -> Optional[tuple]:
    """``(scheme, parts)`` of the section number a line starts with: ``("arabic", (2, 1))`` for
    "2.1 Data", ``("roman", (4,))`` for "IV. Results", ``("letter", (2,))`` for "B. Set-up"; None
    when it starts with none (a number must be followed by a word)."""
    m = _HEADING_NUMBER.match(text)
    if not m:
        return None
    if m.group(1):
        return "arabic", tuple(int(x) for x in m.group(1).split("."))
    if m.group(2):
        value = _ROMAN_VALUES.get(m.group(2))
        return ("roman", (value,)) if value else None
    return "letter", (ord(m.group(3)) - ord("A") + 1,)


def _follows(earlier: tuple, later: tuple) -> bool:
    """Whether section number ``later`` comes right after ``earlier`` in a paper's numbering:
    its first sub-section (2 -> 2.1), its next sibling (2.1 -> 2.2, 2.3.4 -> 2.4, 2.3 -> 3)."""
    if later == earlier + (1,):
        return True
    k = len(later)
    return k <= len(earlier) and later[:-1] == earlier[: k - 1] and later[-1] == earlier[k - 1] + 1


def number_sequence(texts: Sequence[str]) -> tuple:
    """``(follows, followed)``: for each line, whether it starts with a section number that
    comes right after the number of an earlier line (:func:`_follows`), and whether a later
    line's number comes right after its own. Numbered headings form such a sequence; a lone
    "3 mg" in a table or a list item less often does. Linear in the number of lines: each
    number is looked up by the numbers that may come right before it."""
    numbers = [(i, heading_number(t)) for i, t in enumerate(texts) if t]
    numbers = [(i, n) for i, n in numbers if n is not None]
    follows = [False] * len(texts)
    followed = [False] * len(texts)

    def before(scheme: str, number: tuple) -> list:
        # What an earlier number must be, or start with, for ``number`` to come right after it.
        keys = [(scheme, "prefix", number[:-1] + (number[-1] - 1,))]
        if len(number) > 1 and number[-1] == 1:
            keys.append((scheme, "exact", number[:-1]))
        return keys

    def own_keys(scheme: str, number: tuple) -> list:
        return [(scheme, "exact", number)] + [(scheme, "prefix", number[:k]) for k in range(1, len(number) + 1)]

    seen: set = set()
    for i, (scheme, number) in numbers:
        follows[i] = any(key in seen for key in before(scheme, number))
        seen.update(own_keys(scheme, number))
    wanted: set = set()
    for i, (scheme, number) in reversed(numbers):
        followed[i] = any(key in wanted for key in own_keys(scheme, number))
        wanted.update(before(scheme, number))
    return follows, followed


def _furniture_key(text: str) -> str:
    return _SHAPE_DIGITS.sub("0", text.lower())


def _bare(text: str) -> str:
    return _NUMBER_PREFIX.sub("", text).strip()


def _known(bare: str) -> bool:
    return bare.lower().rstrip(":. ") in KNOWN_HEADINGS


_KNOWN_PREFIX = re.compile("|".join(re.escape(k) + " " for k in sorted(KNOWN_HEADINGS) if len(k) > 5))


def _known_prefix(bare: str) -> bool:
    """The line starts with a usual section name of more than five letters and goes on."""
    return bool(_KNOWN_PREFIX.match(bare.lower()))


def local_widths(lengths: Sequence[int], reach: int = 10) -> List[float]:
    """For each line length, the 75th percentile of the lengths of up to ``reach``
    lines on each side and its own (fewer at the ends): the width of the column the
    line is in. One vectorised percentile over all full windows, so that a text of
    tens of thousands of lines costs no more than a few of numpy's calls."""
    values = numpy.asarray(lengths, dtype="float64")
    n, size = len(values), 2 * reach + 1
    if n <= size:
        return [float(numpy.percentile(values[max(0, k - reach) : k + reach + 1], 75)) for k in range(n)]
    out = numpy.empty(n)
    out[reach : n - reach] = numpy.percentile(numpy.lib.stride_tricks.sliding_window_view(values, size), 75, axis=1)
    for k in list(range(reach)) + list(range(n - reach, n)):
        out[k] = numpy.percentile(values[max(0, k - reach) : k + reach + 1], 75)
    return out.tolist()


def _flags(test: Callable, strings: Sequence[str]) -> numpy.ndarray:
    """``bool(test(s))`` of each string as a boolean array (``test``: a compiled pattern's ``match`` or
    ``search``, a method of ``str``, ...), mapped over the strings in C rather than in a Python loop."""
    return numpy.fromiter(map(bool, map(test, strings)), dtype=bool, count=len(strings))


class _Characters:
    """The characters of many strings as one array of code points, to count in each string the characters,
    or the words (runs of characters that are not white space, as ``str.split`` makes them), that pass a
    test of ``str``. Each distinct character is tested once, with the test itself, so that a count is the
    count that ``str`` gives, in any script."""

    def __init__(self, strings: Sequence[str]) -> None:
        lengths = numpy.fromiter(map(len, strings), dtype=numpy.int64, count=len(strings))
        self.lengths = lengths
        self.bounds = numpy.concatenate([[0], numpy.cumsum(lengths)])
        # "surrogatepass": a lone surrogate (text decoded with "surrogateescape") is a character too.
        self.codes = numpy.frombuffer("".join(strings).encode("utf-32-le", "surrogatepass"), dtype="<u4")
        present = numpy.bincount(self.codes) if len(self.codes) else numpy.zeros(0, dtype=numpy.int64)
        self._distinct = numpy.flatnonzero(present)
        self._size = len(present)

    def passing(self, test: Callable[[str], bool]) -> numpy.ndarray:
        """Whether each character passes ``test`` (a boolean per character)."""
        table = numpy.zeros(self._size, dtype=bool)
        table[self._distinct] = [bool(test(chr(code))) for code in self._distinct]
        return table[self.codes]

    def per_string(self, per_character: numpy.ndarray) -> numpy.ndarray:
        """The sum over each string's characters of ``per_character``."""
        total = numpy.concatenate([[0], numpy.cumsum(per_character, dtype=numpy.int64)])
        return total[self.bounds[1:]] - total[self.bounds[:-1]]

    def count(self, test: Callable[[str], bool]) -> numpy.ndarray:
        return self.per_string(self.passing(test))

    def words(self) -> Tuple[numpy.ndarray, numpy.ndarray]:
        """``(starts, lengths)``: where each word starts in :attr:`codes`, and its length."""
        space = self.passing(str.isspace)
        edge_before = numpy.ones(len(space), dtype=bool)  # the character before is white space or no character
        edge_before[1:] = space[:-1]
        edge_before[self.bounds[:-1][self.lengths > 0]] = True
        edge_after = numpy.ones(len(space), dtype=bool)
        edge_after[:-1] = space[1:]
        edge_after[self.bounds[1:][self.lengths > 0] - 1] = True
        starts = numpy.flatnonzero(~space & edge_before)
        ends = numpy.flatnonzero(~space & edge_after)
        return starts, ends - starts + 1

    def per_string_at(self, positions: numpy.ndarray, values: numpy.ndarray) -> numpy.ndarray:
        """The sum over each string of ``values`` given at character ``positions``."""
        per_character = numpy.zeros(len(self.codes), dtype=numpy.int64)
        per_character[positions] = values
        return self.per_string(per_character)


def _ends_compound_label(text: str) -> bool:
    """``_COMPOUND_LABEL.search(text)`` of a stripped line, without reading all of it: a match runs to the
    end, and either starts with the last "(" (its other characters are no "(") or is at most five
    characters long ("12a." after a word boundary); a search from the first of the two places, which still
    sees the characters before it (for "\\b"), finds a match if the line has one."""
    start = len(text) - 5
    bracket = text.rfind("(")
    return bool(_COMPOUND_LABEL.search(text, max(0, min(start, bracket) if bracket >= 0 else start)))


def _neighbour(values: numpy.ndarray, index: numpy.ndarray, missing=0.0) -> numpy.ndarray:
    """``values[index]``, and ``missing`` where ``index`` is -1 (no such line)."""
    return numpy.where(index >= 0, values[index], missing)


def _names_reference_list(bare: str) -> bool:
    """Whether a line past its number (``bare``) is a reference list's heading: a name of
    :data:`REFERENCE_HEADINGS` alone on its line."""
    return bare.lower().rstrip(":. ") in REFERENCE_HEADINGS


def _after_list_heading(bares: Sequence[str]) -> numpy.ndarray:
    """Whether an earlier line of ``bares`` (the non-empty lines past their numbers) is a reference
    list's heading (:func:`_names_reference_list`)."""
    heads = numpy.fromiter(map(_names_reference_list, bares), dtype=bool, count=len(bares))
    return (numpy.cumsum(heads) - heads) > 0


def line_features(lines: Sequence[str]) -> numpy.ndarray:
    """One row of cues (:data:`FEATURES`) per line; empty lines get a zero row.

    Each cue is computed for all the non-empty lines at once, as one array (the per-line
    Python it would take otherwise is most of the finder's time on a long text); the cue of
    a line's previous or next line is that array read at the neighbour's index."""
    prefixes = line_number_prefixes(lines)
    stripped = [line[k:].strip() for line, k in zip(lines, prefixes)]
    n = len(stripped)
    X = numpy.zeros((n, len(FEATURES)), dtype="float32")
    line_lengths = numpy.fromiter(map(len, stripped), dtype=numpy.int64, count=n)
    rows = numpy.flatnonzero(line_lengths)  # the non-empty lines: the cues below have one value per row
    if not len(rows):
        return X
    texts = [stripped[i] for i in rows]
    lengths = line_lengths[rows]
    typical = float(numpy.percentile(lengths, 75))
    typical = max(typical, 20.0)
    bares = list(map(_bare, texts))  # the line past its section number, "#" or bullet
    words = list(map(str.split, texts))
    nw = numpy.fromiter(map(len, words), dtype=numpy.int64, count=len(words))
    firsts = [s[:1] for s in texts]
    lasts = [s[-1] for s in texts]
    bare_firsts = [b[:1] for b in bares]
    # Characters and words counted by kind, all lines at once.
    chars = _Characters(texts)
    word_starts, word_lengths = chars.words()
    bare_chars = _Characters(bares)
    bare_lengths = bare_chars.lengths
    alpha, upper = bare_chars.passing(str.isalpha), bare_chars.passing(str.isupper)
    letters = bare_chars.per_string(alpha)
    capitals = bare_chars.per_string(alpha & upper)
    # Title case: of the words of four characters or more that start with a letter, how many start with a capital.
    bare_starts, bare_word_lengths = bare_chars.words()
    long_words = (bare_word_lengths >= 4) & alpha[bare_starts]
    long_word_count = bare_chars.per_string_at(bare_starts, long_words)
    long_capital_count = bare_chars.per_string_at(bare_starts, long_words & upper[bare_starts])
    rule = _flags(is_heading_line, texts)
    short = lengths < 0.55 * typical
    known = _flags(_known, bares)
    verbish = _flags(_VERBS.found, bares)
    ends_period = _flags(".".__eq__, lasts)
    # Running headers and footers: a short line whose text (digits aside) comes back three times or more;
    # page numbers: a number alone, "Page 3 of 12", "- 3 -".
    keyed = numpy.flatnonzero(lengths <= max(typical, 60))
    keys = [_furniture_key(texts[k]) for k in keyed]
    # Counted only 10 lines or more apart, so that a run of figure text ("Chromosome 1", "Chromosome 2")
    # is no running header.
    spaced: Dict[str, int] = {}
    last_seen: Dict[str, int] = {}
    for k, key in zip(keyed.tolist(), keys):
        i = int(rows[k])
        if i - last_seen.get(key, -10) >= 10:
            spaced[key] = spaced.get(key, 0) + 1
            last_seen[key] = i
    repeated = numpy.zeros(len(rows), dtype=bool)
    repeated[keyed] = [spaced[key] >= 3 for key in keys]
    page_number = _flags(_PAGE_NUMBER.match, texts)
    # A line's neighbours are the nearest non-empty lines that are not page furniture, so that a
    # paragraph broken by a page break still reads as one. prev and next: their index among the rows, -1 for none.
    text_rows = numpy.flatnonzero(~(repeated | page_number))
    position = numpy.arange(len(rows))
    k = numpy.searchsorted(text_rows, position)  # the first text line at or after each line
    padded = numpy.append(text_rows, -1)  # reading past either end gives -1
    prev = padded[k - 1]
    nxt = padded[k + (padded[k] == position)]
    prev_line = numpy.where(prev >= 0, rows[prev], -1)
    next_line = numpy.where(nxt >= 0, rows[nxt], -1)
    # Blocks: runs of non-empty lines between empty ones.
    nonempty = line_lengths > 0
    block_starts = numpy.flatnonzero(nonempty & ~numpy.concatenate([[False], nonempty[:-1]]))
    block_ends = numpy.flatnonzero(nonempty & ~numpy.concatenate([nonempty[1:], [False]]))
    block = numpy.searchsorted(block_starts, rows, side="right") - 1
    block_size = (block_ends - block_starts + 1)[block]
    block_index = rows - block_starts[block]
    gaps = max(len(rows) - 1, 1)
    blank_gaps = int(numpy.count_nonzero(numpy.diff(rows) > 1))
    shapes = [_SHAPE_DIGITS.sub("0", ws[0].lower()) for ws in words]
    shape_ids: Dict[str, int] = {}
    shape = numpy.fromiter((shape_ids.setdefault(s, len(shape_ids)) for s in shapes), dtype=numpy.int64,
                           count=len(shapes))
    # The non-empty lines within 3 lines on each side (not the line itself), of them the short ones, and those
    # whose first word has the line's shape.
    line_shape = numpy.full(n, -1)
    line_shape[rows] = shape
    line_short = numpy.zeros(n, dtype=bool)
    line_short[rows] = short
    window = numpy.zeros(len(rows), dtype=numpy.int64)
    window_short = numpy.zeros(len(rows), dtype=numpy.int64)
    window_shape = numpy.zeros(len(rows), dtype=numpy.int64)
    for offset in (-3, -2, -1, 1, 2, 3):
        j = rows + offset
        inside = (j >= 0) & (j < n)
        j = numpy.where(inside, j, 0)
        there = inside & nonempty[j]
        window += there
        window_short += there & line_short[j]
        window_shape += there & (line_shape[j] == shape)
    follows, followed = number_sequence(stripped)
    # The typical length of the text lines around each line (the 75th percentile of up to 10 text lines on
    # each side): the width of the column the line is in.
    local_typical = numpy.full(len(rows), typical)
    local_typical[text_rows] = numpy.maximum(local_widths(lengths[text_rows].tolist()), 20.0)
    rel_len = numpy.minimum(lengths / typical, 2.0)
    ends_sentence = _flags(".!?:)\"'\u201d".__contains__, lasts)
    ends_hyphen = _flags("-\u2010\u2011".__contains__, lasts)
    ends_colon = _flags(":".__eq__, lasts)
    # A match of _CONTINUES is a line's last four characters at most ("with"): a search from there (which
    # still sees the character before, for its "\b") answers as one of the whole line, without reading it all.
    ends_open_word = _flags(lambda s: _CONTINUES.search(s, max(len(s) - 5, 0)), texts)
    text_starts_lower = _flags(str.islower, firsts)  # of the line itself; "starts_lower" reads past its number
    bare_den = numpy.maximum(bare_lengths, 1)
    cue = {
        "bias_like": 1.0,
        "rule": rule,
        "known": known,
        "known_prefix": _flags(_known_prefix, bares),
        "numbered": _flags(_NUMBERED.match, texts),
        "section_number": _flags(_SECTION_NUMBER.match, texts),
        "roman": _flags(_ROMAN.match, texts),
        "markdown": _flags(_MARKDOWN.match, texts),
        "all_caps": (letters >= 4) & (capitals == letters),
        "caption": _flags(_CAPTION.match, texts),
        "ends_period": ends_period,
        "ends_colon": ends_colon,
        "ends_comma": _flags(",;".__contains__, lasts),
        "ends_hyphen": ends_hyphen,
        "ends_digit": _flags(str.isdigit, lasts),
        "ends_paren": _flags(")]".__contains__, lasts),
        "starts_upper": _flags(str.isupper, bare_firsts),
        "starts_lower": _flags(str.islower, bare_firsts),
        "starts_digit": _flags(str.isdigit, firsts),
        "starts_symbol": ~_flags(str.isalnum, firsts),
        "words_1": nw == 1,
        "words_2_3": (2 <= nw) & (nw <= 3),
        "words_4_8": (4 <= nw) & (nw <= 8),
        "words_9_14": (9 <= nw) & (nw <= 14),
        "words_15": nw >= 15,
        "rel_len": rel_len,
        "short": short,
        "title_ratio": numpy.where(long_word_count > 0, long_capital_count / numpy.maximum(long_word_count, 1), 0.0),
        "digit_ratio": bare_chars.count(str.isdigit) / bare_den,
        # No character is both alphanumeric and white space: the rest are symbols.
        "symbol_ratio": (bare_lengths - bare_chars.count(str.isalnum) - bare_chars.count(str.isspace))
                        / bare_den,
        "stop_ratio": numpy.fromiter((sum(map(_STOP.__contains__, map(str.lower, ws))) for ws in words),
                                     dtype=numpy.int64, count=len(words)) / numpy.maximum(nw, 1),
        "verbish": verbish,
        "single_token_caps": (nw == 1) & (letters <= 8) & (capitals == letters),
        "prev_end_sentence": _neighbour(ends_sentence, prev, False),
        "prev_missing": (prev < 0) | (prev_line < rows - 1),
        "prev_rel_len": _neighbour(rel_len, prev),
        "prev_ends_hyphen": _neighbour(ends_hyphen, prev, False),
        "prev_rule": _neighbour(rule, prev, False),
        "prev_short": _neighbour(short, prev, False),
        "next_starts_upper": _neighbour(_flags(str.isupper, firsts), nxt, False),
        "next_rel_len": _neighbour(rel_len, nxt),
        "next_missing": (nxt < 0) | (next_line > rows + 1),
        "next_short": _neighbour(short, nxt, False),
        "next_starts_lower": _neighbour(text_starts_lower, nxt, False),
        "short_density": window_short / numpy.maximum(window, 1),
        "first_line": prev < 0,
        "has_equals": _flags(lambda s: "=" in s or "\u00b1" in s, texts),
        "has_percent_or_unit": _flags(_UNIT.search, texts),
        "in_parens_end": _flags(_PARENS_END.search, texts),
        "long_word": chars.per_string_at(word_starts, word_lengths > 25) > 0,
        "next_rule": _neighbour(rule, nxt, False),
        "prev_ends_colon": _neighbour(ends_colon, prev, False),
        "ends_open_word": ends_open_word,
        "prev_ends_open_word": _neighbour(ends_open_word, prev, False),
        "next_ends_period": _neighbour(ends_period, nxt, False),
        "run_in_like": ends_period & (nw <= 12) & ~verbish & _flags(str.isupper, bare_firsts),
        "bracket_ratio": chars.count("()[]{}".__contains__) / numpy.maximum(lengths, 1),
        "prev_all_caps_or_known": _neighbour(known | _flags(str.isupper, texts), prev, False),
        "next_continues_lower_short": _neighbour(text_starts_lower & short, nxt, False),
        # Runs of lines of the same shape ("Chromosome 1", "Chromosome 2", ...) are figure or table text.
        "same_shape_prev": short & _neighbour(short, prev, False) & (_neighbour(shape, prev, -1) == shape),
        "same_shape_next": short & _neighbour(short, nxt, False) & (_neighbour(shape, nxt, -1) == shape),
        "similar_in_window": window_shape / numpy.maximum(window, 1),
        # Compound names used as headings: "1-(2-Iodo-5-nitrophenyl)ethanone 26.", "(8b)".
        "ends_compound_label": _flags(_ends_compound_label, texts),
        "chemical": numpy.minimum(numpy.fromiter(map(_CHEMICAL.count, texts), dtype=numpy.int64, count=len(texts))
                                  / 3.0, 1.0),
        "doc_blank_ratio": blank_gaps / gaps,
        "doc_long_lines": min(typical / 150.0, 2.0),
        "doc_line_numbered": float(any(prefixes)),
        "block_lines_1": block_size == 1,
        "block_lines_2": block_size == 2,
        "block_lines_3": block_size >= 3,
        "block_first": block_index == 0,
        "block_last": block_index == block_size - 1,
        "blank_before": (rows > 0) & ~nonempty[numpy.maximum(rows - 1, 0)],
        "blank_after": (rows + 1 < n) & ~nonempty[numpy.minimum(rows + 1, n - 1)],
        "repeated": repeated,
        "page_number": page_number,
        "number_follows": numpy.asarray(follows, dtype=bool)[rows],
        "number_followed": numpy.asarray(followed, dtype=bool)[rows],
        "local_rel_len": numpy.minimum(lengths / local_typical, 2.0),
        "after_list_heading": _after_list_heading(bares),
    }
    columns = numpy.empty((len(BASE_FEATURES), len(rows)), dtype="float32")  # one cue a row: filled in place
    for column, name in enumerate(BASE_FEATURES):
        columns[column] = cue[name]
    X[rows, : len(BASE_FEATURES)] = columns.T
    base = {name: k for k, name in enumerate(BASE_FEATURES)}
    cols = [base[c] for c in NEIGHBOUR_CUES]
    width = len(NEIGHBOUR_CUES)
    has_prev, has_next = prev >= 0, nxt >= 0
    X[rows[has_prev], len(BASE_FEATURES) : len(BASE_FEATURES) + width] = X[rows[prev[has_prev]]][:, cols]
    X[rows[has_next], len(BASE_FEATURES) + width :] = X[rows[nxt[has_next]]][:, cols]
    return X


#: A line that the first pass gives this much alone starts a paragraph in the reflowed reading: a label
#: that runs to the column's edge ("Keywords: ...") is not joined to the heading under it, while the rest
#: of a wrapped heading still is.
UNIT_BREAK = 0.5


def reflowed_units(lines: Sequence[str], first: Optional[Sequence[float]] = None) -> Tuple[List[List[int]], List[str]]:
    """The lines' :func:`paragraph_units`, a new unit started at each line that the
    first pass gives :data:`UNIT_BREAK` or more alone (``first``), and each unit's
    text as one line (:func:`join_lines`), read past a manuscript's line numbers."""
    prefixes = line_number_prefixes(lines)
    units: List[List[int]] = []
    for unit in paragraph_units(lines, prefixes):
        run: List[int] = []
        for i in unit:
            if run and first is not None and first[i] >= UNIT_BREAK:
                units.append(run)
                run = []
            run.append(i)
        units.append(run)
    return units, [join_lines([lines[i][prefixes[i]:] for i in unit]) for unit in units]


def reflowed_cues(lines: Sequence[str], params: Dict[str, numpy.ndarray], first: numpy.ndarray) -> numpy.ndarray:
    """:func:`unit_features` of the lines: the first pass (``params``; ``first``, its
    probabilities of the lines read alone) reads the :func:`reflowed_units`."""
    units, texts = reflowed_units(lines, first)
    unit_first = forward(params, line_features(texts)) if texts else numpy.zeros(0)
    return unit_features(len(lines), units, unit_first, first)


def unit_features(n: int, units: Sequence[Sequence[int]], unit_first: Sequence[float],
                  first: Sequence[float]) -> numpy.ndarray:
    """:data:`UNIT_FEATURES` of each of ``n`` lines, from the :func:`reflowed_units`
    ``units``, the first pass's probability of each unit read as one line
    (``unit_first``) and of each line read alone (``first``); zero rows for empty lines."""
    U = numpy.zeros((n, len(UNIT_FEATURES)), dtype="float32")
    first_col = UNIT_FEATURES.index("unit_first")
    for k, unit in enumerate(units):
        size = len(unit)
        alone = [float(first[i]) for i in unit]
        row = [
            float(unit_first[k]),
            float(unit_first[k - 1]) if k > 0 else 0.0,
            float(unit_first[k + 1]) if k + 1 < len(units) else 0.0,
            min(alone), max(alone),
            float(size == 1), float(size == 2), float(3 <= size <= 4), float(size >= 5),
            0.0,  # unit_first, set per line below
            float(k + 1 < len(units) and len(units[k + 1]) > size),
        ]
        for j, i in enumerate(unit):
            U[i] = row
            U[i, first_col] = float(j == 0)
    return U


_CITATION_MARKS = re.compile(r"https?://|\bdoi\b|\(\d{4}[a-z]?\)|\b(?:19|20)\d\d[a-z]?[;:][^\S\n]*\d|\bet al\b|"
                             r"\b(?:19|20)\d\d\.$|\bpp?\.[^\S\n]*\d|\bvol\.[^\S\n]*\d|\d+[^\S\n]*[\u2013-][^\S\n]*\d+\.?$",
                             re.I | re.M)


def reference_cues(lines: Sequence[str], first: Sequence[float]) -> numpy.ndarray:
    """:data:`REFERENCE_CUES` of each line, from the first pass's probabilities ``first``.

    The marks of a citation are searched in the lines' text joined with newlines, in one pass: none of
    :data:`_CITATION_MARKS`'s spaces is a newline and its ``$`` is a line's end, so no mark runs over two
    lines and each line counts the marks it would alone."""
    R = numpy.zeros((len(lines), len(REFERENCE_CUES)), dtype="float32")
    if not len(lines):
        return R
    prefixes = line_number_prefixes(lines)
    bodies = [line[k:].strip() for line, k in zip(lines, prefixes)]
    nonempty = numpy.fromiter((bool(b) for b in bodies), dtype=bool, count=len(bodies))
    starts = numpy.cumsum([0] + [len(b) + 1 for b in bodies[:-1]])
    marks = [m.start() for m in _CITATION_MARKS.finditer("\n".join(bodies))]
    counts = numpy.bincount(numpy.searchsorted(starts, marks, side="right") - 1, minlength=len(lines))
    R[:, 1] = numpy.minimum(counts / 2.0, 1.0)
    first = numpy.asarray(first)
    heading = next((i for i in numpy.flatnonzero((first >= 0.5) & nonempty)
                    if _names_reference_list(_bare(bodies[i]))), None)
    if heading is not None:
        R[heading + 1:, 0] = 1.0
    R[~nonempty] = 0.0
    return R


def context_features(lines: Sequence[str], X: numpy.ndarray, first: numpy.ndarray,
                     unit_cues: numpy.ndarray) -> numpy.ndarray:
    """:data:`FEATURES` of each line followed by :data:`CONTEXT_FEATURES`, from the
    first pass's probabilities ``first`` (so that the second line of a wrapped
    heading, or a run-in heading between two headings, can lean on its neighbours)
    and the :func:`unit_features` of the text read reflowed (``unit_cues``)."""
    n = len(lines)
    nonempty = numpy.flatnonzero([bool(line.strip()) for line in lines])
    C = numpy.zeros((n, len(PROBABILITY_CUES)), dtype="float32")
    if len(nonempty):
        # The non-empty lines' probabilities, two zeros on each side for the neighbours a text lacks.
        p = numpy.asarray(first, dtype="float64")[nonempty]
        padded = numpy.concatenate([[0.0, 0.0], p, [0.0, 0.0]])
        m = len(p)
        at = {offset: padded[2 + offset : 2 + offset + m] for offset in (-2, -1, 1, 2)}
        ends_open = X[nonempty, FEATURES.index("ends_open_word")].astype("float64")
        starts_lower = X[nonempty, FEATURES.index("starts_lower")].astype("float64")
        prev_open = numpy.concatenate([[0.0], ends_open[:-1]])
        C[nonempty, :7] = numpy.stack([p, at[-1], at[1], at[-2], at[2],
                                       at[-1] * numpy.maximum(prev_open, starts_lower), at[1] * ends_open], axis=1)
        # The paper's own heading style: how many of the lines the first pass takes for headings share this
        # line's style, and how likely the first pass finds the other lines of its style.
        style_cues = X[numpy.ix_(nonempty, [FEATURES.index(c) for c in STYLE_CUES + ("title_ratio",)])]
        bits = numpy.hstack([style_cues[:, :-1] > 0.5, style_cues[:, -1:] >= 0.75])
        _, style = numpy.unique(bits, axis=0, return_inverse=True)
        style = style.reshape(-1)
        sure = p >= 0.5
        total = numpy.bincount(style, weights=p)
        count = numpy.bincount(style)
        sure_count = numpy.bincount(style, weights=sure.astype("float64"))
        others = int(sure.sum()) - sure
        C[nonempty, 7] = numpy.where(others > 0, (sure_count[style] - sure) / numpy.maximum(others, 1), 0.0)
        C[nonempty, 8] = numpy.where(count[style] > 1, (total[style] - p) / numpy.maximum(count[style] - 1, 1), 0.0)
    return numpy.hstack([X, C, unit_cues, reference_cues(lines, first)])


class HeadingLineModel:
    """A small network over :func:`line_features` (standardised cues, one
    tanh hidden layer, a sigmoid output): P(line is a heading). With
    ``context_params``, a second network of the same shape reads the cues
    again together with the first network's probabilities of the line and
    its neighbours, and of the text read reflowed (the paragraph the line is
    in, scored as one line: :func:`context_features`), and gives the final one."""

    def __init__(self, params: Dict, threshold: float = 0.5, features: Sequence[str] = FEATURES,
                 meta: Optional[Dict] = None, context_params: Optional[Dict] = None) -> None:
        if tuple(features) != FEATURES:
            raise ValueError("the heading-line weights were made for another feature set; retrain them")
        self.params = {k: numpy.asarray(v, dtype="float32") for k, v in params.items()}
        self.context_params = (
            {k: numpy.asarray(v, dtype="float32") for k, v in context_params.items()} if context_params else None
        )
        self.threshold = float(threshold)
        self.meta = dict(meta or {})

    def probabilities(self, lines: Sequence[str], features: Optional[numpy.ndarray] = None) -> numpy.ndarray:
        """P(heading) of each line; ``features``: the lines' :func:`line_features`, if already made."""
        if not len(lines):
            return numpy.zeros((0,), dtype="float32")
        empty = numpy.asarray([not line.strip() for line in lines])
        X = line_features(lines) if features is None else features
        probs = forward(self.params, X)
        probs[empty] = 0.0
        if self.context_params is not None:
            cues = context_features(lines, X, probs, reflowed_cues(lines, self.params, probs))
            probs = forward(self.context_params, cues)
            probs[empty] = 0.0
        return probs

    def heading_lines(self, lines: Sequence[str]) -> List[bool]:
        return [bool(p >= self.threshold) for p in self.probabilities(lines)]

    def to_dict(self) -> Dict:
        data = {"features": list(FEATURES), "params": {k: v.tolist() for k, v in self.params.items()},
                "threshold": self.threshold, "meta": self.meta}
        if self.context_params is not None:
            data["context_features"] = list(CONTEXT_FEATURES)
            data["context_params"] = {k: v.tolist() for k, v in self.context_params.items()}
        return data

    def to_disk(self, path: Union[str, Path]) -> None:
        Path(path).write_text(json.dumps(self.to_dict()) + "\n", encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Union[str, Path] = DEFAULT_MODEL) -> "HeadingLineModel":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if "context_params" in data and tuple(data.get("context_features", ())) != CONTEXT_FEATURES:
            raise ValueError(f"{path}: the second-pass weights were made for another feature set; retrain them")
        return cls(data["params"], data.get("threshold", 0.5), data["features"], data.get("meta"),
                   data.get("context_params"))


def forward(params: Dict[str, numpy.ndarray], X: numpy.ndarray) -> numpy.ndarray:
    Z = (X - params["mean"]) / params["scale"]
    H = numpy.tanh(Z @ params["W1"] + params["b1"])
    z = H @ params["w2"] + params["b2"]
    return (1.0 / (1.0 + numpy.exp(-numpy.clip(z, -30, 30)))).astype("float32")


def train_network(X: numpy.ndarray, y: numpy.ndarray, hidden: int = 8, l2: float = 1e-2, epochs: int = 1500,
                  learn_rate: float = 0.01, seed: int = 0,
                  weights: Optional[numpy.ndarray] = None) -> Dict[str, numpy.ndarray]:
    """Fit :func:`forward`'s parameters by full-batch Adam on the mean log loss plus
    an L2 penalty (``l2 / 2`` times the squared weights), with torch on one thread
    (the initial weights come from a numpy generator seeded with ``seed``).
    ``weights``: one per row, how much its loss counts (scaled to a mean of 1)."""
    import torch

    rng = numpy.random.default_rng(seed)
    X = X.astype("float64")
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    n, d = X.shape
    if weights is not None:
        weights = numpy.asarray(weights, dtype="float64")
        if weights.shape != (n,) or not numpy.all(weights >= 0) or weights.sum() <= 0:
            raise ValueError(f"weights must be {n} non-negative numbers, not all zero")
        weights = weights / weights.mean()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        Z = torch.tensor((X - mean) / scale, dtype=torch.float32)
        target = torch.tensor(numpy.asarray(y, dtype="float32"))
        row_weights = None if weights is None else torch.tensor(weights, dtype=torch.float32)
        params = {
            "W1": torch.tensor(rng.normal(0, 1 / math.sqrt(d), (d, hidden)), dtype=torch.float32, requires_grad=True),
            "b1": torch.zeros(hidden, requires_grad=True),
            "w2": torch.tensor(rng.normal(0, 1 / math.sqrt(hidden), hidden), dtype=torch.float32,
                               requires_grad=True),
            "b2": torch.zeros((), requires_grad=True),
        }
        optimizer = torch.optim.Adam(params.values(), lr=learn_rate, betas=(0.9, 0.999), eps=1e-8)
        for _ in range(epochs):
            optimizer.zero_grad()
            z = torch.tanh(Z @ params["W1"] + params["b1"]) @ params["w2"] + params["b2"]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z, target, weight=row_weights)
            loss = loss + 0.5 * l2 * ((params["W1"] ** 2).sum() + (params["w2"] ** 2).sum())
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    out = {k: v.detach().numpy().astype("float64") for k, v in params.items()}
    out["mean"] = mean
    out["scale"] = scale
    return out



_BARE_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.?|[A-H]\.)$")
#: A line next to a heading that the model gives at least this probability may be part of it (see
#: :func:`heading_flags`).
CONTINUATION_FLOOR = 0.2
#: The rest of a wrapped heading is short, and a heading that ends in a colon is a label that the text
#: after it belongs to ("Author contributions: MJ and DLR designed ...").
CONTINUATION_MAX_WORDS = 10
#: The headings of a reference list, and what may still be a heading after one (see :func:`heading_flags`).
REFERENCE_HEADINGS = {"references", "bibliography", "literature cited", "works cited", "reference list",
                      "references and notes", "cited literature", "literature", "references cited"}
_BACK_MATTER = re.compile(r"(?:appendi|supplementa|supporting information|annex|acknowledg|funding|data availability|"
                          r"author|competing|conflicts? of interest|declaration|abbreviations|glossary|ethic)", re.I)
_APPENDIX_NUMBER = re.compile(r"^[A-H](?:\.\d{1,2}){0,3}\.\s+[A-Z]|^[A-H](?:\.\d{1,2}){1,3}\s+[A-Z]")
_CITATION = re.compile(r"https?://|\bdoi\b|\(\d{4}[a-z]?\)", re.I)


def heading_flags(lines: Sequence[str], probs: Sequence[float], threshold: float = 0.5,
                  prefixes: Optional[Sequence[int]] = None) -> List[bool]:
    """Which lines are heading lines: those the model gives ``threshold`` or more,
    and two kinds of line next to a heading line that belong to it:

    - a section number on a line of its own ("2.1", "IV.") right above a heading
      line that has no number of its own (PDF-to-text tools often set the number
      and the title on separate lines). A bare integer ("3") counts only where the
      paper does this at least twice, since a page number can also sit above a
      heading;
    - the rest of a wrapped heading: the line after a heading line, given
      :data:`CONTINUATION_FLOOR` or more, when the heading line ends on a word that
      cannot end a title ("of", "and", a hyphen, a comma; not a colon) or the next
      line starts in lower case, and the next line has at most
      :data:`CONTINUATION_MAX_WORDS` words.

    A guard where the model reads a reference list (it learns them from the
    training papers' lists, but the short last line of an entry, "Guilford
    Publications.", can read like a run-in heading): after a heading of
    :data:`REFERENCE_HEADINGS`, a line that ends in a
    full stop or holds a citation's marks (a URL, a DOI, a year in brackets) is a
    heading only when it names back matter ("Acknowledgements", "Appendix B ...")
    or is numbered as an appendix ("A. Proofs")."""
    prefixes = prefixes if prefixes is not None else [0] * len(lines)
    bodies = [line[k:].strip() for line, k in zip(lines, prefixes)]
    flags = [bool(p >= threshold) for p in probs]
    n = len(lines)
    in_references = False
    for i in range(n):
        if not flags[i]:
            continue
        bare = _bare(bodies[i])
        if _names_reference_list(bare):
            in_references = True
        elif in_references and (bodies[i].endswith(".") or _CITATION.search(bodies[i])) \
                and not (_known(bare) or _BACK_MATTER.match(bare) or _APPENDIX_NUMBER.match(bodies[i])):
            flags[i] = False
    numbers = []
    for i in range(n - 1):
        title = bodies[i + 1]
        if not flags[i] and flags[i + 1] and _BARE_NUMBER.match(bodies[i]) \
                and not (_NUMBER_PREFIX.match(title) or _BARE_NUMBER.match(title)):
            numbers.append(i)
    integers = {bodies[i] for i in numbers if bodies[i].isdigit()}
    for i in numbers:
        if not bodies[i].isdigit() or len(integers) >= 2:
            flags[i] = True
    for i in range(n - 1):
        j = i + 1
        if flags[i] and not flags[j] and bodies[j] and probs[j] >= CONTINUATION_FLOOR \
                and len(bodies[j].split()) <= CONTINUATION_MAX_WORDS and not bodies[i].endswith(":") \
                and (_CONTINUES.search(bodies[i]) or bodies[j][:1].islower()):
            flags[j] = True
    return flags


def paragraph_units(lines: Sequence[str], prefixes: Optional[Sequence[int]] = None) -> List[List[int]]:
    """The text's lines gathered into paragraphs as a reflowing tool would: a
    paragraph ends at an empty line and after a line that stops well short of its
    column (less than 0.8 of the typical length of the 10 text lines on each side),
    the last line of a justified paragraph or a heading. A column is taken to be 30
    characters wide at least, so that in a text of short lines only (a list, notes,
    a short made-up example) a heading is not read as one with the line under it.
    Each unit is a list of line indices; empty lines are in none."""
    prefixes = prefixes if prefixes is not None else [0] * len(lines)
    bodies = [line[k:].strip() for line, k in zip(lines, prefixes)]
    nonempty = [i for i, b in enumerate(bodies) if b]
    widths = local_widths([len(bodies[i]) for i in nonempty])
    units: List[List[int]] = []
    current: List[int] = []
    for k, i in enumerate(nonempty):
        current.append(i)
        width = max(widths[k], 30.0)
        nxt = nonempty[k + 1] if k + 1 < len(nonempty) else None
        if nxt is None or nxt > i + 1 or len(bodies[i]) < 0.8 * width:
            units.append(current)
            current = []
    return units


def join_lines(lines: Sequence[str]) -> str:
    """Printed lines as one line, as a reflowing tool joins them: a word split at
    the line end with a hyphen ("hyphen-" + "ation") is joined without it; other
    lines with a space; empty lines are left out."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and _SPLIT_WORD.search(out) and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}" if out else line
    return out


def heading_spans(text: str, model: "HeadingLineModel") -> List[tuple]:
    """Character offsets ``(start, end)`` of the headings of ``text`` (the lines of
    :func:`heading_flags`); a heading wrapped over two lines (the second starting in
    lower case, or the first ending in a hyphen, a comma or a word such as "and"), or
    a section number on the line above its title, is one heading. The model reads
    the text twice (:meth:`HeadingLineModel.probabilities`): line by line, and
    reflowed into the paragraphs of :func:`paragraph_units`."""
    raw_lines = text.splitlines(keepends=True)
    lines = [line.rstrip("\r\n") for line in raw_lines]
    # A manuscript's line numbers are not part of the heading.
    prefixes = line_number_prefixes(lines)
    flags = heading_flags(lines, model.probabilities(lines), model.threshold, prefixes)
    spans: List[list] = []
    offset = 0
    previous = False
    for line, raw, flag, prefix in zip(lines, raw_lines, flags, prefixes):
        if flag:
            lead = prefix + len(line[prefix:]) - len(line[prefix:].lstrip())
            start, end = offset + lead, offset + len(line.rstrip())
            body = line[prefix:].strip()
            joined = text[spans[-1][0]:spans[-1][1]] if previous and spans else ""
            if joined and (body[:1].islower() or _CONTINUES.search(joined) or _BARE_NUMBER.match(joined)):
                spans[-1][1] = end
            else:
                spans.append([start, end])
        previous = flag
        offset += len(raw)
    return [tuple(s) for s in spans]


class LineModelSegmenter:
    """Cut a plain-text doc into sections at the heading lines that
    :class:`HeadingLineModel` finds; text before the first heading is a
    section without heading, unless it is only the paper's front matter
    (see :func:`spacy_scicls.segmentation.rule_based.segments_at_headings`)."""

    def __init__(self, model: Optional["HeadingLineModel"] = None) -> None:
        self.model = model if model is not None else HeadingLineModel.from_disk()

    def __call__(self, doc) -> list:
        from .rule_based import segments_at_headings

        text = doc.text
        return segments_at_headings(doc, text, heading_spans(text, self.model))


@registry.misc("spacy_scicls.heading_line_sections.v1")
def make_line_model_segmenter_v1(path: Optional[str] = None):
    """The plain-text segmenter with the packaged heading-line weights, or those saved at ``path``."""
    return LineModelSegmenter(HeadingLineModel.from_disk(path) if path else None)


def train_two_pass(papers: Sequence[tuple], hidden: int = 8, l2: float = 1e-3, epochs: int = 1500, folds: int = 3,
                   seed: int = 0, paper_weights: Optional[Sequence[float]] = None,
                   negative_rate: float = 1.0, features: Optional[Sequence[numpy.ndarray]] = None) -> tuple:
    """Fit both passes of :class:`HeadingLineModel` on ``papers``, a sequence of
    ``(lines, labels)`` (``labels``: 1.0 for a heading line, else 0.0), each
    paper's lines counting ``paper_weights[i]`` times in the loss (default 1).

    The second pass learns from first-pass probabilities that the first pass
    gave papers it was not fitted on (``folds``-fold, by paper), so that it
    learns how far to trust them on new papers. Empty lines are left out (the
    model gives them 0). ``negative_rate`` < 1 keeps that share of the other
    lines, drawn at random (seeded), each counting ``1 / negative_rate``
    times: the same loss in expectation, fitted faster on many renderings.
    ``features``: each paper's :func:`line_features`, if already made (where one
    paper is trained on many times).
    Returns ``(params, context_params)``."""
    if not papers:
        raise ValueError("no papers to train the heading-line model on")
    if not 0.0 < negative_rate <= 1.0:
        raise ValueError("negative_rate must be in (0, 1]")
    if paper_weights is not None and len(paper_weights) != len(papers):
        raise ValueError(f"{len(paper_weights)} paper weights for {len(papers)} papers")
    if features is not None and len(features) != len(papers):
        raise ValueError(f"features of {len(features)} papers for {len(papers)} papers")
    rng = numpy.random.default_rng(seed)
    feats, ys, ws, keeps = [], [], [], []
    for i, (lines, labels) in enumerate(papers):
        y = numpy.asarray(labels, dtype="float64")
        if len(y) != len(lines):
            raise ValueError(f"paper {i}: {len(y)} labels for {len(lines)} lines")
        keep = numpy.asarray([bool(line.strip()) for line in lines], dtype=bool)
        w = numpy.full(len(y), 1.0 if paper_weights is None else float(paper_weights[i]))
        if negative_rate < 1.0:
            drawn = rng.random(len(y)) < negative_rate
            keep &= (y > 0) | drawn
            w = numpy.where(y > 0, w, w / negative_rate)
        feats.append(features[i] if features is not None else line_features(lines))
        ys.append(y)
        ws.append(w)
        keeps.append(keep)

    def rows(indices, blocks):
        return numpy.concatenate([blocks[i][keeps[i]] for i in indices])

    everything = range(len(papers))
    y = rows(everything, ys)
    w = rows(everything, ws)
    params = train_network(numpy.vstack([feats[i][keeps[i]] for i in everything]), y, hidden=hidden, l2=l2,
                           epochs=epochs, seed=seed, weights=w)
    folds = max(1, min(folds, len(papers)))
    Xc: List[numpy.ndarray] = [numpy.zeros((0, 0))] * len(papers)
    for k in range(folds):
        held = [i for i in everything if i % folds == k]
        rest = [i for i in everything if i % folds != k] or held
        fold_params = train_network(numpy.vstack([feats[i][keeps[i]] for i in rest]), rows(rest, ys),
                                    hidden=hidden, l2=l2, epochs=epochs, seed=seed, weights=rows(rest, ws))
        for i in held:
            lines = papers[i][0]
            first = forward(fold_params, feats[i])
            first[numpy.asarray([not line.strip() for line in lines], dtype=bool)] = 0.0
            Xc[i] = context_features(lines, feats[i], first, reflowed_cues(lines, fold_params, first))
    context_params = train_network(numpy.vstack([Xc[i][keeps[i]] for i in everything]), y, hidden=hidden, l2=l2,
                                   epochs=epochs, seed=seed, weights=w)
    return params, context_params
