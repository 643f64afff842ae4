"""The v4 section head: v3 with the whole section, its sub-sections and its parent."""
import numpy
import pytest
import spacy

import spacy_scicls  # noqa: F401
from spacy_scicls.labels import IMRAD_LABELS
from spacy_scicls.ml.section_classifier import (
    TREE_FEATURES, _tree_backprop, build_section_classifier_v4, compose_tree_features, section_tree,
)
from test_sections_head_v2 import _docs
from test_sections_head_v3 import _reader_doc

V4 = {"model": {"@architectures": "spacy_scicls.SectionClassifier.v4", "hidden_width": 16, "word_buckets": 512,
                "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1", "grad_factor": 1.0,
                            "upstream": "*", "pooling": {"@layers": "reduce_mean.v1"}}}}


def test_section_tree_finds_sub_sections_and_parents():
    # paper 0: 1 Intro, 2 Methods, 2.1, 2.1.1, 2.2, 3 Results; paper 1: a sub-section first, then a top section
    owners = numpy.asarray([0, 0, 0, 0, 0, 0, 1, 1])
    levels = numpy.asarray([1, 1, 2, 3, 2, 1, 2, 1])
    end, parent = section_tree(owners, levels)
    assert end.tolist() == [1, 5, 4, 4, 5, 6, 7, 8]
    assert parent.tolist() == [-1, -1, 1, 2, 1, -1, -1, -1]


def test_tree_features_pool_sub_sections_by_tokens():
    owners = numpy.asarray([0, 0, 0, 0])
    levels = numpy.asarray([1, 2, 2, 1])
    W = numpy.asarray([[1.0, 0.0], [0.0, 1.0], [0.0, 3.0], [5.0, 5.0]], dtype="float32")
    n = numpy.asarray([0, 10, 30, 20])  # the parent has no text of its own
    T, _ = compose_tree_features(W, n, owners, levels)
    assert T.shape == (4, 3 * 2 + len(TREE_FEATURES))
    whole, subtree, parent, tree = T[:, :2], T[:, 2:4], T[:, 4:6], T[:, 6:]
    assert numpy.allclose(whole, W)
    # the parent is read by its sub-sections' text, weighed by their length
    assert numpy.allclose(subtree[0], [0.0, 2.5]) and numpy.allclose(subtree[1:], W[1:])
    assert numpy.allclose(parent[1], subtree[0]) and numpy.allclose(parent[2], subtree[0]) and not parent[3].any()
    assert numpy.allclose(tree[0, :4], [0.0, 0.0, 1.0, 0.2]) and tree[1, :3].tolist() == [1.0, 0.0, 0.0]
    assert numpy.allclose(tree[:, 4], [40 / 60, 10 / 60, 30 / 60, 20 / 60])
    only, _ = compose_tree_features(W, n, owners, levels, ("subtree",))
    assert numpy.allclose(only, subtree)


def test_tree_backprop_matches_finite_differences():
    rng = numpy.random.default_rng(0)
    owners = numpy.asarray([0, 0, 0, 0, 1, 1])
    levels = numpy.asarray([1, 2, 3, 1, 1, 2])
    n = numpy.asarray([3, 5, 0, 2, 4, 1])
    W = rng.normal(size=(6, 3)).astype("float64")
    T, tree = compose_tree_features(W, n, owners, levels)
    G = rng.normal(size=T.shape)
    dW = _tree_backprop(G.astype("float32"), n, tree, 3, ("whole", "subtree", "parent", "tree"))
    eps = 1e-3
    for i in range(6):
        for j in range(3):
            up, down = W.copy(), W.copy()
            up[i, j] += eps
            down[i, j] -= eps
            f_up = (compose_tree_features(up, n, owners, levels)[0] * G).sum()
            f_down = (compose_tree_features(down, n, owners, levels)[0] * G).sum()
            assert abs((f_up - f_down) / (2 * eps) - dW[i, j]) < 1e-2


def test_unknown_tree_parts_are_refused():
    with pytest.raises(ValueError, match="tree_parts"):
        build_section_classifier_v4(None, tree_parts=["whole", "grandparent"])


def _v4_pipeline(tiny_bert, **settings):
    from test_components import pipeline_with

    config = {"model": dict(V4["model"], **settings)}
    nlp = pipeline_with(tiny_bert, "scicls_sections", "sections", config)
    assert nlp.get_pipe("sections").model.name == "section_classifier_v4"
    return nlp


def test_v4_head_trains_and_round_trips_with_identical_scores(tiny_bert, tmp_path):
    nlp = _v4_pipeline(tiny_bert, tree_parts=["subtree", "tree"])
    examples = _docs(nlp)
    optimizer = nlp.initialize(lambda: examples)
    losses = []
    for _ in range(30):
        step = {}
        nlp.update(examples, sgd=optimizer, losses=step)
        losses.append(step["sections"])
    assert losses[-1] < losses[0] * 0.85
    doc = nlp(_reader_doc(nlp, examples[0].reference))
    labels = [s.label_ for s in doc.spans["sections"]]
    assert len(labels) == 4 and all(label in IMRAD_LABELS for label in labels)
    nlp.to_disk(tmp_path / "p")
    again = spacy.load(tmp_path / "p")
    assert again.get_pipe("sections").model.attrs["tree_parts"] == ["subtree", "tree"]
    doc_again = again(_reader_doc(again, examples[0].reference))
    assert [s.label_ for s in doc_again.spans["sections"]] == labels
    assert [s._.section_score for s in doc_again.spans["sections"]] == [s._.section_score for s in doc.spans["sections"]]


def test_training_script_pools_whole_sections_as_the_head_does(tiny_bert):
    """train_sections.py's whole-section vectors give the columns the v4 head computes itself."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from spacy_scicls.ml.section_classifier import _section_features_v4
    from spacy_scicls.ml.tok2vec import token_vectors
    from spacy_scicls.pipeline.sections import _levels, _to_ragged
    from spacy_scicls.segmentation import segments_from_spans
    from train_sections import extra_sections, pooled_sections, pooled_whole_sections, section_features

    nlp = _v4_pipeline(tiny_bert)
    examples = _docs(nlp)
    nlp.initialize(lambda: examples)
    model = nlp.get_pipe("sections").model
    docs = [nlp.make_doc(eg.reference.text) for eg in examples]
    for doc, eg in zip(docs, examples):
        doc.spans["sections"] = [doc[s.start : s.end] for s in eg.reference.spans["sections"]]
        for k, (new, old) in enumerate(zip(doc.spans["sections"], eg.reference.spans["sections"])):
            # the second and third sections are sub-sections of the first
            new._.heading, new._.section_level = old._.heading, 2 if k in (1, 2) else 1
    cut = pooled_sections(nlp, docs)
    whole = pooled_whole_sections(nlp, docs, model.attrs["content_tokens"])
    # both read the same heading and first-tokens means, section by section
    assert numpy.allclose(cut["H"], whole["H"]) and numpy.allclose(cut["C"], whole["C"])
    assert (cut["owners"] == whole["owners"]).all()
    segments = [segments_from_spans(doc, list(doc.spans["sections"])) for doc in docs]
    levels = [_levels(doc, segs, "sections") for doc, segs in zip(docs, segments)]
    pooled = dict(whole, levels=numpy.concatenate(levels),
                  has_heading=numpy.asarray([bool(s.heading) for segs in segments for s in segs], dtype="float32"),
                  extra=extra_sections(model, docs))
    F_script = section_features(pooled, model.attrs["tree_parts"])
    docs = [nlp.get_pipe("transformer")(doc) for doc in docs]
    Xs, _ = token_vectors(model.get_ref("tok2vec"), docs, is_train=False)
    F_head, _ = _section_features_v4(model, docs, Xs, _to_ragged(model, segments, levels))
    assert F_script.shape == F_head.shape
    assert numpy.allclose(F_script, model.ops.to_numpy(F_head), atol=1e-5)
