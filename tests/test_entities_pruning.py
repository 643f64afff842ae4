"""SpanEntityScorer.v2: the linear first stage that prunes candidates before the Maxout."""
import numpy
import pytest
import spacy
from spacy_transformers import install_extensions
from thinc.api import fix_random_seed

from spacy_scicls.entities.frozen import with_token_vectors
from spacy_scicls.ml.span_scorer import _keep_best
from tiny_data import planted_entity_examples, set_listener_width, train_entity_head

LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "upstream": "*",
    "pooling": {"@layers": "reduce_mean.v1"},
}


def v2_model(**settings):
    # The head of these tests: no token-form features, no input dropout, two convolution layers
    # unless a test says otherwise (the component's defaults fill in what is not given here).
    pinned = {"features": None, "input_dropout": 0.0, "context_depth": 2}
    return {"@architectures": "spacy_scicls.SpanEntityScorer.v2", "max_width": 3, "tok2vec": LISTENER,
            **pinned, **settings}


def examples_with_hazard(nlp, n=4):
    texts = ["heat wave hit Europe and Asia", "floods and heat wave in May", "a long heat wave"]
    return planted_entity_examples(nlp, texts, repeat=n, width=8)


@pytest.fixture(scope="module")
def pruned_head():
    """Trained with a first stage that keeps one candidate in four tokens at prediction."""
    install_extensions()  # doc._.trf_data
    fix_random_seed(0)
    nlp = spacy.blank("en")
    examples = examples_with_hazard(nlp)
    head = train_entity_head(nlp, {"ents_policy": "replace", "model": v2_model(prune_ratio=0.25)}, examples)
    return head, examples


def fresh_docs(examples):
    return [with_token_vectors(eg.reference, eg.predicted._.trf_data.model_output.last_hidden_state[0]) for eg in examples]


def test_first_stage_is_trained_so_that_a_tight_pruning_keeps_the_entity(pruned_head):
    head, examples = pruned_head
    for doc in head.pipe(fresh_docs(examples[:3])):
        # 6 tokens and a ratio of 0.25: two candidates of about 15 are scored.
        assert [(e.text, e.label_) for e in doc.ents] == [("heat wave", "hazard")]


def test_pruning_scores_only_the_best_candidates_and_leaves_their_scores_as_they_are(pruned_head):
    head, examples = pruned_head
    docs = [eg.predicted for eg in examples[:3]]
    per_doc, pruned = head.predict(docs)
    head.model.attrs["prune_ratio"] = 0.0
    try:
        _, everything = head.predict(docs)
    finally:
        head.model.attrs["prune_ratio"] = 0.25
    assert pruned.shape[1] == len(head.labels) + 2  # + the first stage's entity probability
    pruned, first_stage = head._split_first_stage(pruned)
    everything, _ = head._split_first_stage(everything)
    assert ((first_stage > 0) & (first_stage < 1)).all()
    scored = ~((pruned[:, 0] == 1.0) & (pruned[:, 1:] == 0.0).all(axis=1))
    offset = 0
    for doc, candidates in zip(docs, per_doc):
        assert scored[offset : offset + len(candidates)].sum() == -(-len(doc) // 4)
        offset += len(candidates)
    numpy.testing.assert_allclose(pruned[scored], everything[scored], rtol=1e-5, atol=1e-6)
    # The kept candidates are each doc's best by the first stage.
    offset = 0
    for candidates in per_doc:
        doc_rows = slice(offset, offset + len(candidates))
        assert first_stage[doc_rows][scored[doc_rows]].min() >= first_stage[doc_rows][~scored[doc_rows]].max()
        offset += len(candidates)


def test_keep_best_per_doc():
    first = numpy.asarray([0.1, 0.9, 0.5, 3.0, -1.0, 2.0, 0.0], dtype="float32")
    # doc 1: 3 candidates, 4 tokens; doc 2: 4 candidates, 2 tokens.
    assert _keep_best(numpy, first, [3, 4], [4, 2], 0.5).tolist() == [1, 2, 3]
    assert _keep_best(numpy, first, [3, 4], [4, 2], 10.0).tolist() == list(range(7))


def test_round_trip_keeps_the_first_stage(pruned_head):
    head, examples = pruned_head
    nlp = spacy.blank("en")
    copy = nlp.add_pipe("scicls_entities", config={"model": v2_model(prune_ratio=0.25)})
    set_listener_width(copy, 8)
    copy.from_bytes(head.to_bytes())
    docs = [eg.predicted for eg in examples[:3]]
    numpy.testing.assert_allclose(copy.predict(docs)[1], head.predict(docs)[1], rtol=1e-6)


def test_empty_doc_and_bad_ratio(pruned_head):
    head, _ = pruned_head
    empty = with_token_vectors(spacy.blank("en").make_doc(""), numpy.zeros((0, 8), "float32"))
    assert list(head.pipe([empty]))[0].ents == ()
    with pytest.raises(ValueError, match="prune_ratio"):
        spacy.blank("en").add_pipe("scicls_entities", config={"model": v2_model(prune_ratio=-1.0)})


def test_context_layers_train_and_see_neighbours():
    """With convolution layers a token's span parts depend on its neighbours' vectors."""
    install_extensions()
    fix_random_seed(0)
    nlp = spacy.blank("en")
    model = v2_model(prune_ratio=0.0, context_width=16, context_depth=1)
    examples = examples_with_hazard(nlp, n=2)
    head = train_entity_head(nlp, {"ents_policy": "replace", "model": model}, examples, steps=30)
    docs = fresh_docs(examples[:3])
    assert [[(e.text, e.label_) for e in doc.ents] for doc in head.pipe(docs)] == [[("heat wave", "hazard")]] * 3
    projection = head.model.layers[1]
    vectors = docs[0]._.trf_data.model_output.last_hidden_state[0]
    changed = vectors.copy()
    changed[0] += 1.0
    before, after = projection.predict([vectors])[0], projection.predict([changed])[0]
    assert not numpy.allclose(before[1], after[1]) and numpy.allclose(before[3:], after[3:])
