"""Scorers of the heads. Each head's keys carry its own prefix
(``sections_``, ``cats_<taxonomy>_``), so that several heads, and several
category heads, report side by side in ``spacy evaluate`` and ``spacy train``.
The entity head uses spaCy's own ``ents_*`` keys."""
from typing import Any, Callable, Dict, Iterable, List, Optional

from spacy.scorer import Scorer
from spacy.training import Example
from spacy.util import registry


def score_sections(examples: Iterable[Example], *, spans_key: str = "sections", **kwargs: Any) -> Dict[str, Any]:
    """Section spans against gold: labelled (``sections_p/r/f``, exact
    boundaries and IMRaD label) and unlabelled (``sections_boundaries_*``)."""
    examples = list(examples)

    def getter(doc, attr):
        return doc.spans.get(spans_key, [])

    def has_annotation(doc):
        return spans_key in doc.spans

    scores = Scorer.score_spans(examples, "sections", getter=getter, has_annotation=has_annotation)
    unlabelled = Scorer.score_spans(
        examples, "sections_boundaries", getter=getter, has_annotation=has_annotation, labeled=False
    )
    unlabelled.pop("sections_boundaries_per_type", None)
    scores.update(unlabelled)
    return scores


@registry.scorers("spacy_scicls.section_scorer.v1")
def make_section_scorer_v1() -> Callable:
    return score_sections


def score_doc_categories(
    examples: Iterable[Example],
    *,
    taxonomy: str,
    labels: List[str],
    multi_label: bool = True,
    threshold: float = 0.5,
    thresholds: Optional[Dict[str, float]] = None,
    **kwargs: Any,
) -> Dict[str, Any]:
    """``doc.cats`` of one taxonomy against gold, under ``cats_<taxonomy>_*`` keys.

    Only examples whose gold doc has at least one label of this taxonomy are
    scored, since corpora for different taxonomies are mixed in training.
    ``thresholds`` (code -> threshold, as fitted by the head's ``calibrate``)
    decide multi-label P/R/F per label; other labels use ``threshold``.
    """
    prefix = f"{taxonomy}/"
    keys = [prefix + code for code in labels]
    annotated = [eg for eg in examples if any(k.startswith(prefix) for k in eg.reference.cats)]
    if not annotated or not keys:
        return {f"cats_{taxonomy}_score": None}

    def getter(doc, attr):
        # Gold docs list the labels that apply; the others are negatives.
        return {key: doc.cats.get(key, 0.0) for key in keys}

    scores = Scorer.score_cats(
        annotated, "cats", getter=getter, labels=keys, multi_label=multi_label, threshold=threshold
    )
    if multi_label and thresholds:
        scores.update(_prf_at_thresholds(annotated, keys, labels, thresholds, threshold))
    return {f"cats_{taxonomy}_{name[len('cats_'):]}": value for name, value in scores.items()}


def _prf_at_thresholds(
    examples: List[Example], keys: List[str], codes: List[str], thresholds: Dict[str, float], default: float
) -> Dict[str, Any]:
    """spaCy's multi-label ``cats_*`` P/R/F keys, with each label decided at its own threshold."""
    counts = {key: [0, 0, 0] for key in keys}  # tp, fp, fn
    for eg in examples:
        for key, code in zip(keys, codes):
            gold = eg.reference.cats.get(key, 0.0) >= 0.5
            pred = eg.predicted.cats.get(key, 0.0) >= thresholds.get(code, default)
            counts[key][0] += gold and pred
            counts[key][1] += pred and not gold
            counts[key][2] += gold and not pred

    def prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}

    per_type = {key: prf(*c) for key, c in counts.items()}
    micro = prf(*(sum(c[i] for c in counts.values()) for i in range(3)))
    out: Dict[str, Any] = {f"cats_micro_{k}": v for k, v in micro.items()}
    for k in ("p", "r", "f"):
        out[f"cats_macro_{k}"] = sum(v[k] for v in per_type.values()) / len(per_type)
    out["cats_f_per_type"] = per_type
    return out


@registry.scorers("spacy_scicls.doc_categories_scorer.v1")
def make_doc_categories_scorer_v1() -> Callable:
    return score_doc_categories
