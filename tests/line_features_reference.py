"""The per-line cues of the plain-text heading finder as first written, one line at a time: the reference
that spacy_scicls.segmentation.lines.line_features (which computes each cue over all lines at once) must
match value for value (tests/test_line_features_reference.py). Written for clarity, not speed."""
import re
from typing import Dict, Optional, Sequence

import numpy

from spacy_scicls.segmentation.lines import (
    _CAPTION, _COMPOUND_LABEL, _MARKDOWN, _NUMBERED, _PAGE_NUMBER, _PARENS_END, _ROMAN, _SECTION_NUMBER,
    _SHAPE_DIGITS, _STOP, _UNIT, BASE_FEATURES, FEATURES, NEIGHBOUR_CUES, PROBABILITY_CUES, REFERENCE_CUES,
    REFERENCE_HEADINGS, STYLE_CUES, _bare, _furniture_key, _known, _names_reference_list,
    line_number_prefixes, local_widths, number_sequence,
)
from spacy_scicls.segmentation.rule_based import KNOWN_HEADINGS, MAX_HEADING_CHARS, MAX_HEADING_WORDS

# The patterns that line_features runs faster than a plain search (_AnyCase, a search of a line's end only),
# as they were written, and run here as plain searches.
_VERBS = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|can|could|may|might|will|would|shows?|showed|"
                    r"found|used|using|we|our|these|this|there)\b", re.I)
_CHEMICAL = re.compile(r"(?:\d,\d|\b[NOS]-|yl\b|yl\)|phenyl|methyl|ethyl|amino|hydroxy|oxo|oxy\b|carbonyl|pyr[ia]d|"
                       r"azol|triazol|amide|ate\b|ine\b|one\b|\(\d[RSEZ]\))", re.I)
_CONTINUES = re.compile(r"(?:[-\u2010\u2011,;:&]|\b(?:and|or|of|the|in|for|on|with|to|a|an|by|from))$", re.I)
_KNOWN_PREFIX = re.compile("|".join(re.escape(k) + " " for k in sorted(KNOWN_HEADINGS) if len(k) > 5))


def reference_is_heading_line(line: str) -> bool:
    text = line.strip()
    if not text or len(text) > MAX_HEADING_CHARS or len(text.split()) > MAX_HEADING_WORDS:
        return False
    if _CAPTION.match(text):
        return False
    if _MARKDOWN.match(text):
        return True
    bare = re.sub(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.|[A-H]\.)\s+", "", text)
    if bare.lower().rstrip(":") in KNOWN_HEADINGS:
        return True
    if re.search(r"[.,;:!?]$", text) or not re.search(r"[A-Za-z]{2}", bare):
        return False
    if sum(ch.isdigit() for ch in bare) > 3:
        return False
    if _NUMBERED.match(text):
        return True
    letters = [ch for ch in bare if ch.isalpha()]
    return len(letters) >= 4 and all(ch.isupper() for ch in letters)


def reference_line_features(lines: Sequence[str]) -> numpy.ndarray:
    """One row of cues (:data:`FEATURES`) per line; empty lines get a zero row."""
    prefixes = line_number_prefixes(lines)
    stripped = [line[k:].strip() for line, k in zip(lines, prefixes)]
    lengths = [len(s) for s in stripped if s]
    typical = float(numpy.percentile(lengths, 75)) if lengths else 1.0
    typical = max(typical, 20.0)
    n = len(stripped)
    rule = [bool(s) and reference_is_heading_line(s) for s in stripped]
    short = [0 < len(s) < 0.55 * typical for s in stripped]
    nonempty = [i for i, s in enumerate(stripped) if s]
    # Running headers and footers: a short line whose text (digits aside) comes back three times or more;
    # page numbers: a number alone, "Page 3 of 12", "- 3 -".
    keys = [_furniture_key(s) if s and len(s) <= max(typical, 60) else "" for s in stripped]
    # Counted only 10 lines or more apart, so that a run of figure text ("Chromosome 1", "Chromosome 2")
    # is no running header.
    spaced: Dict[str, int] = {}
    last_seen: Dict[str, int] = {}
    for i, key in enumerate(keys):
        if key and i - last_seen.get(key, -10) >= 10:
            spaced[key] = spaced.get(key, 0) + 1
            last_seen[key] = i
    repeated = [bool(key) and spaced[key] >= 3 for key in keys]
    page_number = [bool(s) and bool(_PAGE_NUMBER.match(s)) for s in stripped]
    # A line's neighbours are the nearest non-empty lines that are not page furniture, so that a
    # paragraph broken by a page break still reads as one.
    text_lines = [i for i in nonempty if not (repeated[i] or page_number[i])]
    prev_of: Dict[int, Optional[int]] = {}
    next_of: Dict[int, Optional[int]] = {}
    k = 0
    for i in nonempty:
        while k < len(text_lines) and text_lines[k] < i:
            k += 1
        prev_of[i] = text_lines[k - 1] if k > 0 else None
        after = k + 1 if k < len(text_lines) and text_lines[k] == i else k
        next_of[i] = text_lines[after] if after < len(text_lines) else None
    # Blocks: runs of non-empty lines between empty ones.
    block_size = [0] * n
    block_index = [0] * n
    start = 0
    while start < n:
        if not stripped[start]:
            start += 1
            continue
        end = start
        while end < n and stripped[end]:
            end += 1
        for j in range(start, end):
            block_size[j], block_index[j] = end - start, j - start
        start = end
    gaps = max(len(nonempty) - 1, 1)
    blank_gaps = sum(1 for a, b in zip(nonempty, nonempty[1:]) if b > a + 1)
    doc_blank_ratio = blank_gaps / gaps
    doc_long_lines = min(typical / 150.0, 2.0)
    doc_line_numbered = float(any(prefixes))
    shapes = [_SHAPE_DIGITS.sub("0", s.split()[0].lower()) if s else "" for s in stripped]
    follows, followed = number_sequence(stripped)
    # The typical length of the text lines around each line (the 75th percentile of up to 10 text lines on
    # each side): the width of the column the line is in.
    text_lengths = [len(stripped[i]) for i in text_lines]
    local_typical: Dict[int, float] = {}
    for i, width in zip(text_lines, local_widths(text_lengths)):
        local_typical[i] = max(width, 20.0)
    X = numpy.zeros((n, len(FEATURES)), dtype="float32")
    for i, s in enumerate(stripped):
        if not s:
            continue
        bare = _bare(s)
        words = s.split()
        nw = len(words)
        letters = "".join(filter(str.isalpha, bare))
        long_words = [w for w in bare.split() if len(w) >= 4 and w[0].isalpha()]
        p = prev_of[i]
        q = next_of[i]
        ps = stripped[p] if p is not None else ""
        qs = stripped[q] if q is not None else ""
        window = [j for j in range(max(0, i - 3), min(n, i + 4)) if j != i and stripped[j]]
        f = {
            "bias_like": 1.0,
            "rule": float(rule[i]),
            "known": float(_known(bare)),
            "known_prefix": float(bool(_KNOWN_PREFIX.match(bare.lower()))),
            "numbered": float(bool(_NUMBERED.match(s))),
            "section_number": float(bool(_SECTION_NUMBER.match(s))),
            "roman": float(bool(_ROMAN.match(s))),
            "markdown": float(bool(_MARKDOWN.match(s))),
            "all_caps": float(len(letters) >= 4 and all(map(str.isupper, letters))),
            "caption": float(bool(_CAPTION.match(s))),
            "ends_period": float(s.endswith(".")),
            "ends_colon": float(s.endswith(":")),
            "ends_comma": float(s[-1] in ",;"),
            "ends_hyphen": float(s[-1] in "-\u2010\u2011"),
            "ends_digit": float(s[-1].isdigit()),
            "ends_paren": float(s[-1] in ")]"),
            "starts_upper": float(bare[:1].isupper()),
            "starts_lower": float(bare[:1].islower()),
            "starts_digit": float(s[:1].isdigit()),
            "starts_symbol": float(not s[:1].isalnum()),
            "words_1": float(nw == 1),
            "words_2_3": float(2 <= nw <= 3),
            "words_4_8": float(4 <= nw <= 8),
            "words_9_14": float(9 <= nw <= 14),
            "words_15": float(nw >= 15),
            "rel_len": min(len(s) / typical, 2.0),
            "short": float(short[i]),
            "title_ratio": (sum(w[0].isupper() for w in long_words) / len(long_words)) if long_words else 0.0,
            "digit_ratio": sum(map(str.isdigit, bare)) / max(len(bare), 1),
            # No character is both alphanumeric and white space: the rest are symbols.
            "symbol_ratio": (len(bare) - sum(map(str.isalnum, bare)) - sum(map(str.isspace, bare))) / max(len(bare), 1),
            "stop_ratio": sum(w.lower() in _STOP for w in words) / max(nw, 1),
            "verbish": float(bool(_VERBS.search(bare))),
            "single_token_caps": float(nw == 1 and len(letters) <= 8 and all(map(str.isupper, letters))),
            "prev_end_sentence": float(bool(ps) and ps[-1] in ".!?:)\"'\u201d"),
            "prev_missing": float(p is None or (p < i - 1)),
            "prev_rel_len": min(len(ps) / typical, 2.0),
            "prev_ends_hyphen": float(bool(ps) and ps[-1] in "-\u2010\u2011"),
            "prev_rule": float(p is not None and rule[p]),
            "prev_short": float(p is not None and short[p]),
            "next_starts_upper": float(qs[:1].isupper()),
            "next_rel_len": min(len(qs) / typical, 2.0),
            "next_missing": float(q is None or (q > i + 1)),
            "next_short": float(q is not None and short[q]),
            "next_starts_lower": float(qs[:1].islower()),
            "short_density": sum(short[j] for j in window) / max(len(window), 1),
            "first_line": float(p is None),
            "has_equals": float("=" in s or "\u00b1" in s),
            "has_percent_or_unit": float(bool(_UNIT.search(s))),
            "in_parens_end": float(bool(_PARENS_END.search(s))),
            "long_word": float(any(len(w) > 25 for w in words)),
            "next_rule": float(q is not None and rule[q]),
            "prev_ends_colon": float(ps.endswith(":")),
            "ends_open_word": float(bool(_CONTINUES.search(s))),
            "prev_ends_open_word": float(bool(ps) and bool(_CONTINUES.search(ps))),
            "next_ends_period": float(qs.endswith(".")),
            "run_in_like": float(s.endswith(".") and nw <= 12 and not _VERBS.search(bare) and bare[:1].isupper()),
            "bracket_ratio": sum(map(s.count, "()[]{}")) / max(len(s), 1),
            "prev_all_caps_or_known": float(bool(ps) and (_known(_bare(ps)) or ps.isupper())),
            "next_continues_lower_short": float(bool(qs) and qs[:1].islower() and len(qs) < 0.55 * typical),
            # Runs of lines of the same shape ("Chromosome 1", "Chromosome 2", ...) are figure or table text.
            "same_shape_prev": float(p is not None and short[i] and short[p] and shapes[p] == shapes[i]),
            "same_shape_next": float(q is not None and short[i] and short[q] and shapes[q] == shapes[i]),
            "similar_in_window": sum(shapes[j] == shapes[i] for j in window) / max(len(window), 1),
            # Compound names used as headings: "1-(2-Iodo-5-nitrophenyl)ethanone 26.", "(8b)".
            "ends_compound_label": float(bool(_COMPOUND_LABEL.search(s))),
            "chemical": min(len(_CHEMICAL.findall(s)) / 3.0, 1.0),
            "doc_blank_ratio": doc_blank_ratio,
            "doc_long_lines": doc_long_lines,
            "doc_line_numbered": doc_line_numbered,
            "block_lines_1": float(block_size[i] == 1),
            "block_lines_2": float(block_size[i] == 2),
            "block_lines_3": float(block_size[i] >= 3),
            "block_first": float(block_index[i] == 0),
            "block_last": float(block_index[i] == block_size[i] - 1),
            "blank_before": float(i > 0 and not stripped[i - 1]),
            "blank_after": float(i + 1 < n and not stripped[i + 1]),
            "repeated": float(repeated[i]),
            "page_number": float(page_number[i]),
            "number_follows": float(follows[i]),
            "number_followed": float(followed[i]),
            "local_rel_len": min(len(s) / local_typical.get(i, typical), 2.0),
            "after_list_heading": float(any(_bare(stripped[j]).lower().rstrip(":. ") in REFERENCE_HEADINGS
                                            for j in range(i) if stripped[j])),
        }
        X[i, : len(BASE_FEATURES)] = [f[name] for name in BASE_FEATURES]
    base = {name: k for k, name in enumerate(BASE_FEATURES)}
    cols = [base[c] for c in NEIGHBOUR_CUES]
    width = len(NEIGHBOUR_CUES)
    for i in nonempty:
        p, q = prev_of[i], next_of[i]
        if p is not None:
            X[i, len(BASE_FEATURES) : len(BASE_FEATURES) + width] = X[p, cols]
        if q is not None:
            X[i, len(BASE_FEATURES) + width :] = X[q, cols]
    return X


# The second pass's cues as first written, line by line: the reference for context_features and
# reference_cues, which compute them over all lines at once.
_CITATION_MARKS_ONE_LINE = re.compile(r"https?://|\bdoi\b|\(\d{4}[a-z]?\)|\b(?:19|20)\d\d[a-z]?[;:]\s*\d|\bet al\b|"
                             r"\b(?:19|20)\d\d\.$|\bpp?\.\s*\d|\bvol\.\s*\d|\d+\s*[\u2013-]\s*\d+\.?$", re.I)


def per_line_reference_cues(lines: Sequence[str], first: Sequence[float]) -> numpy.ndarray:
    """:data:`REFERENCE_CUES` of each line, from the first pass's probabilities ``first``."""
    R = numpy.zeros((len(lines), len(REFERENCE_CUES)), dtype="float32")
    prefixes = line_number_prefixes(lines)
    after = False
    for i, line in enumerate(lines):
        body = line[prefixes[i]:].strip()
        if not body:
            continue
        R[i, 0] = float(after)
        R[i, 1] = min(len(_CITATION_MARKS_ONE_LINE.findall(body)) / 2.0, 1.0)
        if first[i] >= 0.5 and _names_reference_list(_bare(body)):
            after = True
    return R


def per_line_context_features(lines: Sequence[str], X: numpy.ndarray, first: numpy.ndarray,
                              unit_cues: numpy.ndarray) -> numpy.ndarray:
    """:data:`FEATURES` of each line followed by :data:`CONTEXT_FEATURES`, from the
    first pass's probabilities ``first`` (so that the second line of a wrapped
    heading, or a run-in heading between two headings, can lean on its neighbours)
    and the :func:`unit_features` of the text read reflowed (``unit_cues``)."""
    n = len(lines)
    nonempty = [i for i, line in enumerate(lines) if line.strip()]
    C = numpy.zeros((n, len(PROBABILITY_CUES)), dtype="float32")
    open_col = FEATURES.index("ends_open_word")
    lower_col = FEATURES.index("starts_lower")
    for k, i in enumerate(nonempty):
        def at(offset: int) -> float:
            j = k + offset
            return float(first[nonempty[j]]) if 0 <= j < len(nonempty) else 0.0

        prev_open = float(X[nonempty[k - 1], open_col]) if k > 0 else 0.0
        C[i, :7] = [first[i], at(-1), at(1), at(-2), at(2), at(-1) * max(prev_open, float(X[i, lower_col])),
                    at(1) * X[i, open_col]]
    # The paper's own heading style: how many of the lines the first pass takes for headings share this
    # line's style, and how likely the first pass finds the other lines of its style.
    if nonempty:
        style_cols = [FEATURES.index(c) for c in STYLE_CUES]
        styles = [tuple((X[i, style_cols] > 0.5).tolist()) + (bool(X[i, FEATURES.index("title_ratio")] >= 0.75),)
                  for i in nonempty]
        probs = numpy.asarray([float(first[i]) for i in nonempty])
        sure = probs >= 0.5
        total: Dict[tuple, float] = {}
        count: Dict[tuple, int] = {}
        sure_count: Dict[tuple, int] = {}
        for style, p, is_sure in zip(styles, probs, sure):
            total[style] = total.get(style, 0.0) + p
            count[style] = count.get(style, 0) + 1
            sure_count[style] = sure_count.get(style, 0) + int(is_sure)
        n_sure = int(sure.sum())
        for k, i in enumerate(nonempty):
            style, own = styles[k], int(sure[k])
            others = n_sure - own
            C[i, 7] = (sure_count[style] - own) / others if others else 0.0
            C[i, 8] = (total[style] - probs[k]) / (count[style] - 1) if count[style] > 1 else 0.0
    return numpy.hstack([X, C, unit_cues, per_line_reference_cues(lines, first)])
