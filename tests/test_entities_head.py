"""The span entity head: section and window boundaries, thresholds, frozen-encoder training."""
import numpy
import pytest
import spacy
from spacy.tokens import Span
from thinc.api import fix_random_seed

from spacy_scicls.entities import candidate_spans
from spacy_scicls.entities.frozen import pooled_token_vectors, with_token_vectors
from tiny_data import planted_entity_examples, set_listener_width, train_entity_head


def test_candidates_never_cross_a_section_start_set_by_a_reader():
    nlp = spacy.blank("en")
    doc = nlp("Methods We ran CMIP6 models")
    doc.spans["sections"] = [Span(doc, 0, 1), Span(doc, 1, 5)]
    spans = {doc[s:e].text for s, e in candidate_spans(doc, 8)}
    assert "Methods We" not in spans and "We ran CMIP6" in spans
    del doc.spans["sections"]
    assert "Methods We" in {doc[s:e].text for s, e in candidate_spans(doc, 8)}


def test_candidates_cross_transformer_window_edges(tiny_bert):
    """Windows of 128 tokens with stride 96: candidates are built on the whole
    doc, so spans across tokens 96 and 128 exist and every token has a vector."""
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy_scicls.TransformerModel.v1",
        "name": str(tiny_bert),
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 128, "stride": 96},
    }})
    nlp.initialize()
    doc = nlp.get_pipe("transformer")(nlp.make_doc(" ".join(["drought"] * 300)))
    candidates = {tuple(c) for c in candidate_spans(doc, 8).tolist()}
    for edge in (96, 128, 192, 224, 256):
        assert (edge - 1, edge + 1) in candidates
    vectors = pooled_token_vectors(doc._.trf_data, len(doc))
    assert vectors.shape[0] == 300 and (numpy.abs(vectors).sum(axis=1) > 0).all()


@pytest.fixture(scope="module")
def frozen_head():
    """A head trained on fixed token vectors, read through its listener from
    ``doc._.trf_data``: the way scripts/evaluate_entities.py trains."""
    fix_random_seed(0)
    nlp = spacy.blank("en")
    texts = ["heat wave hit Europe", "floods and heat wave", "a heat wave"]
    examples = planted_entity_examples(nlp, texts, repeat=4, width=8)
    head = train_entity_head(nlp, {"ents_policy": "replace", "model": {"max_width": 3}}, examples)
    return head, examples


def test_frozen_head_learns_and_threshold_trades_recall_for_precision(frozen_head):
    head, examples = frozen_head
    docs = [with_token_vectors(eg.reference, eg.predicted._.trf_data.model_output.last_hidden_state[0]) for eg in examples]
    found = {}
    for threshold in (0.3, 0.95):
        head.cfg["threshold"] = threshold
        predicted = list(head.pipe([d.copy() for d in docs]))
        found[threshold] = {(i, e.start, e.end, e.label_) for i, d in enumerate(predicted) for e in d.ents}
        assert all(e._.entity_score >= threshold for d in predicted for e in d.ents)
    gold = {(i, e.start, e.end, e.label_) for i, eg in enumerate(examples) for e in eg.reference.ents}
    assert found[0.3] >= found[0.95]
    assert len(found[0.3] & gold) >= 0.75 * len(gold)
    head.cfg["threshold"] = 0.5


def test_frozen_head_empty_doc_and_round_trip_keeps_thresholds(frozen_head):
    head, examples = frozen_head
    empty = with_token_vectors(spacy.blank("en").make_doc(""), numpy.zeros((0, 8), "float32"))
    assert list(head.pipe([empty]))[0].ents == ()
    head.cfg["threshold"] = 0.73
    head.cfg["positive_weight"] = 2.5
    data = head.to_bytes()
    head.cfg["threshold"] = 0.5
    head.cfg["positive_weight"] = 5.0
    nlp = spacy.blank("en")
    copy = nlp.add_pipe("scicls_entities", config={"model": {"max_width": 3}})
    set_listener_width(copy, 8)
    copy.from_bytes(data)
    assert copy.cfg["threshold"] == 0.73 and copy.cfg["positive_weight"] == 2.5 and copy.labels == ("hazard",)
    doc = examples[0].reference
    vectors = examples[0].predicted._.trf_data.model_output.last_hidden_state[0]
    head.cfg["threshold"] = 0.73
    a = [(e.start, e.end, e.label_) for e in head(with_token_vectors(doc, vectors)).ents]
    b = [(e.start, e.end, e.label_) for e in copy(with_token_vectors(doc, vectors)).ents]
    assert a == b
    head.cfg["threshold"] = 0.5


def test_positive_weight_must_be_positive():
    nlp = spacy.blank("en")
    with pytest.raises(ValueError, match="positive_weight"):
        nlp.add_pipe("scicls_entities", config={"positive_weight": 0.0})


def test_prediction_in_blocks_equals_prediction_at_once(frozen_head, monkeypatch):
    import spacy_scicls.ml.span_scorer as span_scorer

    head, examples = frozen_head
    docs = [eg.predicted for eg in examples[:3]]
    _, at_once = head.predict(docs)
    monkeypatch.setattr(span_scorer, "PREDICT_BLOCK", 5)
    _, in_blocks = head.predict(docs)
    assert at_once.shape[0] > 10
    numpy.testing.assert_allclose(in_blocks, at_once, rtol=1e-5, atol=1e-6)


def test_retired_decoding_settings_load_at_their_off_values_only(frozen_head):
    """The shipped package's config and cfg name the removed lexicon prior and
    propagation with their off values: those load and decode as before, any
    other value is refused rather than ignored."""
    head, examples = frozen_head
    nlp = spacy.blank("en")
    retired_off = {"lexicon_weight": 0.0, "lexicon_min_count": 2, "propagate_min_score": None}
    copy = nlp.add_pipe("scicls_entities", config={"model": {"max_width": 3}, **retired_off})
    set_listener_width(copy, 8)
    # a cfg saved before the removal: the retired keys at their off values, and an empty lexicon
    saved = dict(head.cfg, lexicon_weight=0.0, lexicon_min_count=1, propagate_min_score=None, lexicon={})
    copy.from_bytes(head.to_bytes(exclude=["cfg"]), exclude=["cfg"])
    copy.cfg.update(saved)
    copy._drop_retired_cfg()
    assert set(copy.cfg) == set(head.cfg)
    doc = examples[0].reference
    vectors = examples[0].predicted._.trf_data.model_output.last_hidden_state[0]
    a = [(e.start, e.end, e.label_, e._.entity_score) for e in head(with_token_vectors(doc, vectors)).ents]
    b = [(e.start, e.end, e.label_, e._.entity_score) for e in copy(with_token_vectors(doc, vectors)).ents]
    assert a == b and a
    for setting, value in (("lexicon_weight", 0.2), ("propagate_min_score", 0.9)):
        with pytest.raises(ValueError, match=setting):
            spacy.blank("en").add_pipe("scicls_entities", config={setting: value})
    copy.cfg["lexicon_weight"] = 0.2
    with pytest.raises(ValueError, match="lexicon_weight"):
        copy.from_bytes(copy.to_bytes())
