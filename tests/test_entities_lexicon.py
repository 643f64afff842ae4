"""Decoding aids of the span entity head: a lexicon prior from training papers and
document-level propagation (``spacy_scicls.entities.lexicon``), in the component too."""
import numpy
import pytest
import spacy
from spacy.tokens import Span

from spacy_scicls.entities import candidate_spans
from spacy_scicls.entities.lexicon import apply_lexicon, build_lexicon, propagate, token_lowers

LABELS = ("hazard", "place")
TEXT = "Heat wave hit Europe . The heat wave in Europe lasted . Europe was hot\nheat wave"


def gold_doc(nlp):
    doc = nlp.make_doc(TEXT)
    # Annotated: the first "Heat wave" (hazard) and the first two "Europe" (place).
    ents = [Span(doc, 0, 2, "hazard"), Span(doc, 3, 4, "place"), Span(doc, 9, 10, "place")]
    doc.set_ents(ents)
    return doc


def test_lexicon_counts_annotations_and_occurrences():
    nlp = spacy.blank("en")
    lexicon = build_lexicon([gold_doc(nlp)], max_width=3)
    # "heat wave" occurs three times as a candidate (the last one on its own line), annotated once.
    assert lexicon == {"heat wave": ["hazard", 1, 3], "europe": ["place", 2, 3]}


def test_lexicon_prior_moves_scores_towards_the_annotated_rate():
    nlp = spacy.blank("en")
    doc = nlp.make_doc("the heat wave")
    candidates = numpy.asarray([[0, 1], [1, 3]], dtype="int32")
    probs = numpy.asarray([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1]], dtype="float32")
    lexicon = {"heat wave": ["hazard", 4, 5]}
    mixed = apply_lexicon(token_lowers(doc), candidates, probs, lexicon, LABELS, weight=0.5)
    assert mixed[0] == pytest.approx(probs[0])  # not in the lexicon
    assert mixed[1] == pytest.approx([0.5 * 0.6 + 0.5 * 0.2, 0.5 * 0.3 + 0.5 * 0.8, 0.05])
    assert mixed[1].sum() == pytest.approx(1.0)
    assert apply_lexicon(token_lowers(doc), candidates, probs, lexicon, LABELS, 0.5, min_count=5)[1] == pytest.approx(probs[1])
    assert apply_lexicon(token_lowers(doc), candidates, probs, lexicon, LABELS, 0.0) is probs


def test_propagation_labels_further_occurrences_within_the_doc():
    nlp = spacy.blank("en")
    doc = nlp.make_doc(TEXT)
    candidates = candidate_spans(doc, 3)
    chosen = [(0, 2, 1, 0.95), (3, 4, 2, 0.6), (7, 9, 2, 0.5)]  # (7, 9): "wave in"
    out = propagate(token_lowers(doc), candidates, chosen, min_score=0.9)
    # "heat wave" (0.95) spreads to its occurrence on the last line, not to tokens 6-8,
    # which overlap the chosen (7, 9); "Europe" (0.6) is not confident enough.
    assert out == [(0, 2, 1, 0.95), (3, 4, 2, 0.6), (7, 9, 2, 0.5), (16, 18, 1, 0.95)]
    out = propagate(token_lowers(doc), candidates, chosen, min_score=0.6)
    assert out == [(0, 2, 1, 0.95), (3, 4, 2, 0.6), (7, 9, 2, 0.5), (9, 10, 2, 0.6), (12, 13, 2, 0.6), (16, 18, 1, 0.95)]


def head_with_labels(**config):
    nlp = spacy.blank("en")
    head = nlp.add_pipe("scicls_entities", config={"model": {"max_width": 3}, **config})
    for label in LABELS:
        head.add_label(label)
    return nlp, head


def annotate(nlp, head, doc=None):
    doc = doc if doc is not None else nlp.make_doc(TEXT)
    candidates = candidate_spans(doc, 3)
    probs = numpy.zeros((len(candidates), 3), dtype="float32")
    probs[:, 0] = 1.0
    rows = {tuple(c): i for i, c in enumerate(candidates.tolist())}
    probs[rows[(0, 2)]] = [0.05, 0.95, 0.0]  # "Heat wave": a confident hazard
    probs[rows[(12, 13)]] = [0.6, 0.0, 0.4]  # the third "Europe": a place, under the threshold
    head.set_annotations([doc], ([candidates], probs))
    return doc, [(e.start, e.end, e.label_) for e in doc.ents]


def test_component_decodes_with_lexicon_and_propagation_and_honours_ents_policy():
    nlp, head = head_with_labels(ents_policy="replace")
    assert annotate(nlp, head)[1] == [(0, 2, "hazard")]
    head.cfg["propagate_min_score"] = 0.9
    doc, ents = annotate(nlp, head)
    assert ents == [(0, 2, "hazard"), (6, 8, "hazard"), (16, 18, "hazard")]
    assert doc.ents[1]._.entity_score == pytest.approx(0.95)
    # keep_existing: an entity already in doc.ents is kept, and propagation does not overwrite it.
    head.cfg["ents_policy"] = "keep_existing"
    doc = nlp.make_doc(TEXT)
    doc.set_ents([Span(doc, 16, 18, "place")])
    assert annotate(nlp, head, doc)[1] == [(0, 2, "hazard"), (6, 8, "hazard"), (16, 18, "place")]
    head.cfg["ents_policy"] = "replace"
    # The lexicon: "europe" was annotated 2 of 3 times, "heat wave" 1 of 3.
    head.cfg["lexicon"] = build_lexicon([gold_doc(nlp)], max_width=3)
    head.cfg["lexicon_weight"] = 0.5
    # The third "Europe": 0.5 * 0.4 + 0.5 * 2/3 = 0.53, an entity now; the others only 0.33.
    # "Heat wave" falls to 0.5 * 0.95 + 0.5 * 1/3 = 0.64, under the propagation's 0.9.
    assert annotate(nlp, head)[1] == [(0, 2, "hazard"), (12, 13, "place")]
    with pytest.raises(ValueError, match="lexicon_weight"):
        head_with_labels(lexicon_weight=1.5)
    with pytest.raises(ValueError, match="propagate_min_score"):
        head_with_labels(propagate_min_score=0.0)


def test_lexicon_is_learnt_at_initialize_and_survives_the_round_trip(tmp_path):
    from spacy_transformers import install_extensions
    from tiny_data import planted_entity_examples

    from test_entities_head import set_listener_width

    install_extensions()  # doc._.trf_data
    nlp = spacy.blank("en")
    config = {"model": {"max_width": 3}, "lexicon_weight": 0.3, "lexicon_min_count": 2, "propagate_min_score": 0.8}
    head = nlp.add_pipe("scicls_entities", config=config)
    examples = planted_entity_examples(nlp, ["heat wave hit Europe"], repeat=2, width=8)
    set_listener_width(head, 8)
    head.initialize(lambda: examples, nlp=nlp)
    assert head.cfg["lexicon"]  # learnt from the examples' gold entities
    head.to_disk(tmp_path / "head")
    copy = spacy.blank("en").add_pipe("scicls_entities", config={"model": {"max_width": 3}})
    set_listener_width(copy, 8)
    copy.from_disk(tmp_path / "head")
    assert copy.cfg["lexicon"] == head.cfg["lexicon"]
    for key in ("lexicon_weight", "lexicon_min_count", "propagate_min_score"):
        assert copy.cfg[key] == pytest.approx(head.cfg[key])
    # Off by default: no lexicon is learnt.
    plain = spacy.blank("en")
    off = plain.add_pipe("scicls_entities", config={"model": {"max_width": 3}})
    set_listener_width(off, 8)
    off.initialize(lambda: planted_entity_examples(plain, ["heat wave hit Europe"], repeat=2, width=8), nlp=plain)
    assert off.cfg["lexicon"] == {} and off.cfg["propagate_min_score"] is None
