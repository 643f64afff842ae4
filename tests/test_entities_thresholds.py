"""Per-label thresholds of the span entity head: decoding, fitting with shrinkage, serialization."""
import numpy
import pytest
import spacy
from spacy.tokens import Span

from spacy_scicls.entities import greedy_decode
from spacy_scicls.entities.thresholds import (
    ScoredDoc,
    column_thresholds,
    fit_label_thresholds,
    fit_per_label,
    shrink,
)

LABELS = ("hazard", "place")
# "heat wave hit Europe": "heat wave" (hazard, 0.6) and "Europe" (place, 0.6).
CANDIDATES = numpy.asarray([[0, 2], [3, 4]], dtype="int32")
PROBS = numpy.asarray([[0.4, 0.6, 0.0], [0.4, 0.0, 0.6]], dtype="float32")


def test_greedy_decode_applies_each_labels_own_threshold():
    both = greedy_decode(CANDIDATES, PROBS, 0.5)
    assert [(s, e, c) for s, e, c, _ in both] == [(0, 2, 1), (3, 4, 2)]
    strict_places = column_thresholds(LABELS, 0.5, {"place": 0.7})
    assert list(strict_places) == pytest.approx([0.5, 0.5, 0.7])
    assert [(s, e, c) for s, e, c, _ in greedy_decode(CANDIDATES, PROBS, strict_places)] == [(0, 2, 1)]
    # A label's threshold may also be lower than the global one.
    loose = column_thresholds(LABELS, 0.65, {"hazard": 0.55})
    assert [(s, e, c) for s, e, c, _ in greedy_decode(CANDIDATES, PROBS, loose)] == [(0, 2, 1)]


def head_with_labels(**config):
    nlp = spacy.blank("en")
    head = nlp.add_pipe("scicls_entities", config={"ents_policy": "replace", **config})
    for label in LABELS:
        head.add_label(label)
    return nlp, head


def annotate(nlp, head):
    doc = nlp.make_doc("heat wave hit Europe")
    head.set_annotations([doc], ([CANDIDATES], PROBS))
    return [(e.text, e.label_) for e in doc.ents]


def test_component_decides_per_label_and_validates():
    nlp, head = head_with_labels(label_thresholds={"place": 0.7})
    assert annotate(nlp, head) == [("heat wave", "hazard")]
    head.cfg["label_thresholds"] = {"hazard": 0.9}
    assert annotate(nlp, head) == [("Europe", "place")]
    head.cfg["label_thresholds"] = {}
    assert annotate(nlp, head) == [("heat wave", "hazard"), ("Europe", "place")]
    with pytest.raises(ValueError, match="threshold of label"):
        head_with_labels(label_thresholds={"place": 1.5})


def test_per_label_thresholds_survive_the_round_trip(tmp_path):
    from spacy_transformers import install_extensions
    from tiny_data import planted_entity_examples

    from test_entities_head import set_listener_width

    install_extensions()  # doc._.trf_data
    nlp = spacy.blank("en")
    head = nlp.add_pipe("scicls_entities", config={"ents_policy": "replace", "model": {"max_width": 3}})
    examples = planted_entity_examples(nlp, ["heat wave hit Europe"], repeat=2, width=8)
    set_listener_width(head, 8)
    head.initialize(lambda: examples, nlp=nlp)
    head.cfg["label_thresholds"] = {"hazard": 0.37}
    head.to_disk(tmp_path / "head")
    copy = spacy.blank("en").add_pipe("scicls_entities", config={"model": {"max_width": 3}})
    set_listener_width(copy, 8)
    copy.from_disk(tmp_path / "head")
    assert copy.cfg["label_thresholds"] == {"hazard": 0.37}
    assert list(copy.decision_thresholds()) == pytest.approx([0.5, 0.37])
    other = spacy.blank("en").add_pipe("scicls_entities", config={"model": {"max_width": 3}})
    set_listener_width(other, 8)
    other.from_bytes(head.to_bytes())
    assert other.cfg["label_thresholds"] == {"hazard": 0.37}


def scored_doc(gold_scores, noise_scores, label, group):
    """A doc of single-token candidates: gold entities of ``label`` scoring
    ``gold_scores``, and non-entities (predicted as ``label``) scoring ``noise_scores``."""
    column = LABELS.index(label) + 1
    scores = list(gold_scores) + list(noise_scores)
    n = len(scores)
    probs = numpy.zeros((n, len(LABELS) + 1), dtype="float32")
    probs[:, column] = scores
    probs[:, 0] = 1.0 - probs[:, column]
    candidates = numpy.stack([numpy.arange(n), numpy.arange(n) + 1], axis=1).astype("int32")
    starts = numpy.arange(n) * 2
    gold = {(int(starts[i]), int(starts[i]) + 1, label) for i in range(len(gold_scores))}
    return ScoredDoc(candidates, probs, starts, starts + 1, gold, group)


def test_rare_label_with_low_scores_gets_a_lower_threshold_when_evidence_supports_it():
    # Hazards are found at 0.8 (noise 0.5); places score only 0.35 (noise 0.2).
    docs = []
    for group in range(4):
        docs.append(scored_doc([0.8] * 20, [0.5] * 20, "hazard", group))
        docs.append(scored_doc([0.35] * 10, [0.2] * 10, "place", group))
    fitted = fit_per_label(docs, LABELS, start=0.6)
    assert fitted["hazard"] > 0.5 and 0.2 < fitted["place"] <= 0.35
    fit = fit_label_thresholds(docs, LABELS, global_grid=(0.3, 0.4, 0.5, 0.6, 0.7))
    assert fit.prior is not None  # per-label thresholds beat the global one when cross-fitted
    assert fit.label_thresholds["place"] < fit.global_threshold
    assert fit.cross_fitted_f1[fit.prior] > fit.cross_fitted_f1[None]


def test_shrinkage_moves_rare_labels_towards_the_global_threshold():
    fitted = {"hazard": 0.3, "place": 0.3}
    out = shrink(fitted, 0.7, {"hazard": 300, "place": 3}, prior=100.0)
    assert out["hazard"] == pytest.approx(0.7 - 0.4 * 300 / 400, abs=1e-4)
    assert out["place"] == pytest.approx(0.7 - 0.4 * 3 / 103, abs=1e-4)
    assert shrink(fitted, 0.7, {"hazard": 300}, prior=None) == {}
    assert shrink(fitted, 0.7, {"hazard": 300, "place": 3}, prior=0.0) == {"hazard": 0.3, "place": 0.3}


def test_fitting_needs_groups_to_cross_fit():
    docs = [scored_doc([0.8], [0.1], "hazard", 0)]
    with pytest.raises(ValueError, match="two groups"):
        fit_label_thresholds(docs, LABELS, global_grid=(0.5,))
