"""The v2 section head: pooled heading and content, paper context, position in sections."""
import numpy
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Ragged

import spacy_scicls  # noqa: F401
from spacy_scicls.labels import IMRAD_LABELS
from spacy_scicls.ml.section_classifier import POSITION_FEATURES, compose_section_features, pool_sections


def test_pool_sections_reads_heading_and_capped_content():
    X = numpy.arange(20, dtype="float32").reshape(10, 2)
    # doc 0: a section with a heading of 2 tokens and 6 content tokens, one without heading
    rows = numpy.asarray([[0, 8, 2, 1], [8, 10, 8, 2]], dtype="int32")
    H, C, owners, ranges = pool_sections([X], rows, numpy.asarray([2]), content_tokens=3)
    assert numpy.allclose(H[0], X[0:2].mean(axis=0)) and not H[1].any()
    assert numpy.allclose(C[0], X[2:5].mean(axis=0))  # only the first 3 content tokens
    assert numpy.allclose(C[1], X[8:10].mean(axis=0))
    assert ranges == [(0, 2, 2, 5), (8, 8, 8, 10)]
    _, C_all, _, _ = pool_sections([X], rows, numpy.asarray([2]), content_tokens=0)
    assert numpy.allclose(C_all[0], X[2:8].mean(axis=0))


def test_position_cues_count_sections_not_tokens():
    width = 3
    rng = numpy.random.default_rng(0)
    C = rng.normal(size=(6, width)).astype("float32")
    H = numpy.zeros_like(C)
    owners = numpy.asarray([0, 0, 0, 0, 1, 1])
    levels = numpy.asarray([1, 1, 2, 1, 1, 1])
    has_heading = numpy.asarray([1, 1, 1, 0, 1, 1], dtype="float32")
    F = compose_section_features(H, C, owners, levels, has_heading)
    assert F.shape == (6, 5 * width + len(POSITION_FEATURES))
    before = F[:, 3 * width + len(POSITION_FEATURES) : 4 * width + len(POSITION_FEATURES)]
    after = F[:, 4 * width + len(POSITION_FEATURES) :]
    # neighbours within the same paper only
    assert numpy.allclose(before[1:4], C[0:3]) and not before[0].any() and not before[4].any()
    assert numpy.allclose(after[0:3], C[1:4]) and not after[3].any() and not after[5].any()
    P = {name: F[:, 3 * width + k] for k, name in enumerate(POSITION_FEATURES)}
    assert numpy.allclose(P["rel_index"][:4], [0, 1 / 3, 2 / 3, 1])
    # the sub-section sits with its parent, the second of three top-level sections
    assert numpy.allclose(P["rel_top_index"][:4], [0, 0.5, 0.5, 1])
    assert list(P["first"]) == [1, 0, 0, 0, 1, 0] and list(P["last"]) == [0, 0, 0, 1, 0, 1]
    assert list(P["top_level"][:4]) == [1, 1, 0, 1] and list(P["has_heading"][:4]) == [1, 1, 1, 0]
    # content minus the paper's mean content, per paper
    D = F[:, 2 * width : 3 * width]
    assert numpy.allclose(D[:4], C[:4] - C[:4].mean(axis=0), atol=1e-6)
    assert numpy.allclose(D[4:], C[4:] - C[4:].mean(axis=0), atol=1e-6)


def train_sections(nlp, examples, steps: int) -> list:
    """Initialize ``nlp`` on ``examples`` and update it ``steps`` times; the sections head's loss at each step."""
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(steps):
        step = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(step["sections"])
    return losses


def _docs(nlp):
    texts = [
        ("Introduction", "We ask why rainfall changes over the decades in the region."),
        ("Methods", "We measured rainfall at ten stations and fitted a linear model."),
        ("Results", "Rainfall rose by ten percent over the period at most stations."),
        ("Discussion", "The rise agrees with earlier studies of the region and its causes."),
    ]
    examples = []
    for shift in range(3):
        order = texts[shift:] + texts[:shift] if shift else texts
        text = "\n".join(f"{h}\n{b}" for h, b in order)
        doc = nlp.make_doc(text)
        spans, offset = [], 0
        for h, b in order:
            span = doc.char_span(offset, offset + len(h) + 1 + len(b), label=h.lower(), alignment_mode="expand")
            span._.heading = h
            span._.section_level = 1
            spans.append(span)
            offset += len(h) + len(b) + 2
        ref = doc.copy()
        ref.spans["sections"] = [Span(ref, s.start, s.end, label=s.label_) for s in spans]
        for new, old in zip(ref.spans["sections"], spans):
            new._.heading = old._.heading
            new._.section_level = 1
        examples.append(Example(nlp.make_doc(text), ref))
    return examples


def test_v2_head_trains_predicts_and_round_trips(tiny_bert, tmp_path):
    from test_components import pipeline_with

    nlp = pipeline_with(tiny_bert, "scicls_sections", "sections")
    assert nlp.get_pipe("sections").model.name == "section_classifier_v2"
    examples = _docs(nlp)
    losses = train_sections(nlp, examples, steps=15)
    assert losses[-1] < losses[0] * 0.7
    def reader_doc(pipeline):
        # sections as a structured reader sets them
        ref = examples[0].reference
        doc = pipeline.make_doc(ref.text)
        doc.spans["sections"] = [Span(doc, s.start, s.end, label="unlabelled") for s in ref.spans["sections"]]
        for new, old in zip(doc.spans["sections"], ref.spans["sections"]):
            new._.heading, new._.section_level = old._.heading, 1
        return pipeline(doc)

    doc = reader_doc(nlp)
    labels = [s.label_ for s in doc.spans["sections"]]
    assert len(labels) == 4 and all(label in IMRAD_LABELS for label in labels)
    nlp.to_disk(tmp_path / "p")
    again = spacy.load(tmp_path / "p")
    doc_again = reader_doc(again)
    assert [s.label_ for s in doc_again.spans["sections"]] == labels


def test_v2_backprop_matches_finite_differences(tiny_bert):
    from spacy_scicls.ml.section_classifier import _section_features_v2
    from test_components import pipeline_with

    nlp = pipeline_with(tiny_bert, "scicls_sections", "sections")
    nlp.initialize()
    model = nlp.get_pipe("sections").model
    rng = numpy.random.default_rng(0)
    Xs = [rng.normal(size=(12, 4)).astype("float32"), rng.normal(size=(5, 4)).astype("float32")]
    spans = Ragged(numpy.asarray([[0, 5, 1, 1], [5, 12, 6, 2], [0, 5, 2, 1]], dtype="int32"), numpy.asarray([2, 1]))
    F, backprop = _section_features_v2(model, Xs, spans)
    dF = rng.normal(size=F.shape).astype("float32")
    dXs = backprop(dF)
    eps = 1e-2
    for d, t, j in [(0, 3, 1), (0, 7, 2), (0, 0, 0), (0, 11, 1), (1, 4, 3)]:
        plus = [X.copy() for X in Xs]
        plus[d][t, j] += eps
        minus = [X.copy() for X in Xs]
        minus[d][t, j] -= eps
        numeric = ((_section_features_v2(model, plus, spans)[0] - _section_features_v2(model, minus, spans)[0]) * dF).sum() / (2 * eps)
        assert numeric == pytest.approx(float(dXs[d][t, j]), rel=1e-2, abs=1e-3)
