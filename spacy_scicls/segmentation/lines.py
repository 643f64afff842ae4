"""Heading lines of plain text, scored from the line and its neighbours.

A line of a PDF-to-text paper is a heading when it looks like one (short,
numbered, capitalised, a usual section name, no closing full stop) AND sits
like one: the line before it ends a paragraph, the line after it starts
one, and it is not one of many short lines in a row (a table, a list of
authors). :func:`line_features` turns each line into such cues; a logistic
regression over them (:class:`HeadingLineModel`, weights in
``heading_lines.json``, made by ``scripts/train_heading_lines.py``) gives
each line a probability of being a heading. The hand-written rules of
:mod:`.rule_based` are one of its cues.
"""
import json
import math
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy
from spacy.util import registry

from .rule_based import _CAPTION, _MARKDOWN, _NUMBERED, KNOWN_HEADINGS, is_heading_line

DEFAULT_MODEL = Path(__file__).parent / "heading_lines.json"

_NUMBER_PREFIX = re.compile(r"^(?:(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[IVX]{1,5}\.?|[A-H]\.)\s+|#{1,6}\s+|[■•▪|]\s*)")
_SECTION_NUMBER = re.compile(r"^\d{1,2}(?:\.\d{1,2}){0,3}\.?\s+\S")
_ROMAN = re.compile(r"^[IVX]{1,5}\.?\s+[A-Z]")
_STOP = {"the", "of", "and", "in", "to", "a", "for", "with", "on", "by", "is", "are", "was", "were", "we",
         "that", "this", "from", "as", "be", "at", "an", "or", "which", "it", "not"}
_VERBS = re.compile(r"\b(?:is|are|was|were|be|been|has|have|had|can|could|may|might|will|would|shows?|showed|"
                    r"found|used|using|we|our|these|this|there)\b", re.I)

FEATURES = (
    "bias_like", "rule", "known", "known_prefix", "numbered", "section_number", "roman", "markdown", "all_caps",
    "caption", "ends_period", "ends_colon", "ends_comma", "ends_hyphen", "ends_digit", "ends_paren",
    "starts_upper", "starts_lower", "starts_digit", "starts_symbol", "words_1", "words_2_3", "words_4_8",
    "words_9_14", "words_15", "rel_len", "short", "title_ratio", "digit_ratio", "symbol_ratio",
    "stop_ratio", "verbish", "single_token_caps", "prev_end_sentence", "prev_missing", "prev_rel_len",
    "prev_ends_hyphen", "prev_rule", "prev_short", "next_starts_upper", "next_rel_len", "next_missing",
    "next_short", "next_starts_lower", "short_density", "first_line", "has_equals", "has_percent_or_unit",
    "in_parens_end", "long_word", "next_rule", "prev_ends_colon",
)


def _bare(text: str) -> str:
    return _NUMBER_PREFIX.sub("", text).strip()


def _known(bare: str) -> bool:
    return bare.lower().rstrip(":. ") in KNOWN_HEADINGS


def _known_prefix(bare: str) -> bool:
    low = bare.lower()
    return any(low.startswith(k + " ") for k in KNOWN_HEADINGS if len(k) > 5)


def line_features(lines: Sequence[str]) -> numpy.ndarray:
    """One row of cues (:data:`FEATURES`) per line; empty lines get a zero row."""
    stripped = [line.strip() for line in lines]
    lengths = [len(s) for s in stripped if s]
    typical = float(numpy.percentile(lengths, 75)) if lengths else 1.0
    typical = max(typical, 20.0)
    n = len(stripped)
    rule = [bool(s) and is_heading_line(s) for s in stripped]
    short = [0 < len(s) < 0.55 * typical for s in stripped]
    nonempty = [i for i, s in enumerate(stripped) if s]
    prev_of: Dict[int, Optional[int]] = {}
    next_of: Dict[int, Optional[int]] = {}
    for k, i in enumerate(nonempty):
        prev_of[i] = nonempty[k - 1] if k > 0 else None
        next_of[i] = nonempty[k + 1] if k + 1 < len(nonempty) else None
    X = numpy.zeros((n, len(FEATURES)), dtype="float32")
    for i, s in enumerate(stripped):
        if not s:
            continue
        bare = _bare(s)
        words = s.split()
        nw = len(words)
        letters = [c for c in bare if c.isalpha()]
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
            "known_prefix": float(_known_prefix(bare)),
            "numbered": float(bool(_NUMBERED.match(s))),
            "section_number": float(bool(_SECTION_NUMBER.match(s))),
            "roman": float(bool(_ROMAN.match(s))),
            "markdown": float(bool(_MARKDOWN.match(s))),
            "all_caps": float(len(letters) >= 4 and all(c.isupper() for c in letters)),
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
            "digit_ratio": sum(c.isdigit() for c in bare) / max(len(bare), 1),
            "symbol_ratio": sum(not (c.isalnum() or c.isspace()) for c in bare) / max(len(bare), 1),
            "stop_ratio": sum(w.lower() in _STOP for w in words) / max(nw, 1),
            "verbish": float(bool(_VERBS.search(bare))),
            "single_token_caps": float(nw == 1 and len(letters) <= 8 and all(c.isupper() for c in letters)),
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
            "has_percent_or_unit": float(bool(re.search(r"%|\b(?:mg|ml|kg|nm|mm|cm|µm|Hz|kDa)\b", s))),
            "in_parens_end": float(bool(re.search(r"\([^)]*\)\.?$", s))),
            "long_word": float(any(len(w) > 25 for w in words)),
            "next_rule": float(q is not None and rule[q]),
            "prev_ends_colon": float(ps.endswith(":")),
        }
        X[i] = [f[name] for name in FEATURES]
    return X


class HeadingLineModel:
    """A small network over :func:`line_features` (standardised cues, one
    tanh hidden layer, a sigmoid output): P(line is a heading)."""

    def __init__(self, params: Dict, threshold: float = 0.5, features: Sequence[str] = FEATURES,
                 meta: Optional[Dict] = None) -> None:
        if tuple(features) != FEATURES:
            raise ValueError("the heading-line weights were made for another feature set; retrain them")
        self.params = {k: numpy.asarray(v, dtype="float32") for k, v in params.items()}
        self.threshold = float(threshold)
        self.meta = dict(meta or {})

    def probabilities(self, lines: Sequence[str]) -> numpy.ndarray:
        if not len(lines):
            return numpy.zeros((0,), dtype="float32")
        probs = forward(self.params, line_features(lines))
        probs[numpy.asarray([not line.strip() for line in lines])] = 0.0
        return probs

    def heading_lines(self, lines: Sequence[str]) -> List[bool]:
        return [bool(p >= self.threshold) for p in self.probabilities(lines)]

    def to_dict(self) -> Dict:
        return {"features": list(FEATURES), "params": {k: v.tolist() for k, v in self.params.items()},
                "threshold": self.threshold, "meta": self.meta}

    def to_disk(self, path: Union[str, Path]) -> None:
        Path(path).write_text(json.dumps(self.to_dict()) + "\n", encoding="utf-8")

    @classmethod
    def from_disk(cls, path: Union[str, Path] = DEFAULT_MODEL) -> "HeadingLineModel":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["params"], data.get("threshold", 0.5), data["features"], data.get("meta"))


def forward(params: Dict[str, numpy.ndarray], X: numpy.ndarray) -> numpy.ndarray:
    Z = (X - params["mean"]) / params["scale"]
    H = numpy.tanh(Z @ params["W1"] + params["b1"])
    z = H @ params["w2"] + params["b2"]
    return (1.0 / (1.0 + numpy.exp(-numpy.clip(z, -30, 30)))).astype("float32")


def train_network(X: numpy.ndarray, y: numpy.ndarray, hidden: int = 8, l2: float = 1e-2, epochs: int = 1500,
                  learn_rate: float = 0.01, seed: int = 0) -> Dict[str, numpy.ndarray]:
    """Fit :func:`forward`'s parameters by full-batch Adam on the mean log loss plus an L2 penalty."""
    rng = numpy.random.default_rng(seed)
    X = X.astype("float64")
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    Z = (X - mean) / scale
    n, d = Z.shape
    params = {
        "W1": rng.normal(0, 1 / math.sqrt(d), (d, hidden)),
        "b1": numpy.zeros(hidden),
        "w2": rng.normal(0, 1 / math.sqrt(hidden), hidden),
        "b2": numpy.zeros(()),
    }
    moments = {k: (numpy.zeros_like(v), numpy.zeros_like(v)) for k, v in params.items()}
    for t in range(1, epochs + 1):
        H = numpy.tanh(Z @ params["W1"] + params["b1"])
        p = 1.0 / (1.0 + numpy.exp(-numpy.clip(H @ params["w2"] + params["b2"], -30, 30)))
        g = (p - y) / n
        dH = numpy.outer(g, params["w2"]) * (1 - H ** 2)
        grads = {
            "w2": H.T @ g + l2 * params["w2"],
            "b2": numpy.asarray(g.sum()),
            "W1": Z.T @ dH + l2 * params["W1"],
            "b1": dH.sum(axis=0),
        }
        for k, grad in grads.items():
            m, v = moments[k]
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad ** 2
            moments[k] = (m, v)
            params[k] = params[k] - learn_rate * (m / (1 - 0.9 ** t)) / (numpy.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    params["mean"] = mean
    params["scale"] = scale
    return params


_CONTINUES = re.compile(r"(?:[-\u2010\u2011,;:&]|\b(?:and|or|of|the|in|for|on|with|to|a|an|by|from))$", re.I)


def heading_spans(text: str, model: "HeadingLineModel") -> List[tuple]:
    """Character offsets ``(start, end)`` of the headings of ``text``; a
    heading wrapped over two lines (the second starting in lower case, or
    the first ending in a hyphen, a comma or a word such as "and") is one
    heading."""
    raw_lines = text.splitlines(keepends=True)
    lines = [line.rstrip("\r\n") for line in raw_lines]
    flags = model.heading_lines(lines)
    spans: List[list] = []
    offset = 0
    previous = False
    for line, raw, flag in zip(lines, raw_lines, flags):
        if flag:
            lead = len(line) - len(line.lstrip())
            start, end = offset + lead, offset + len(line.rstrip())
            body = line.strip()
            if previous and spans and (body[:1].islower() or _CONTINUES.search(text[spans[-1][0]:spans[-1][1]])):
                spans[-1][1] = end
            else:
                spans.append([start, end])
        previous = flag
        offset += len(raw)
    return [tuple(s) for s in spans]


class LineModelSegmenter:
    """Cut a plain-text doc into sections at the heading lines that
    :class:`HeadingLineModel` finds; text before the first heading is a
    section without heading."""

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
