"""The numpy prediction path of the entity head gives what thinc's layers give."""
import numpy
import pytest
import spacy
from spacy.util import registry
from spacy_transformers import install_extensions
from thinc.api import Linear, Maxout, chain, fix_random_seed, with_array

from spacy_scicls.entities.frozen import with_token_vectors
from spacy_scicls.ml import fast_predict
from spacy_scicls.ml.fast_predict import thinc_prediction
from tiny_data import planted_entity_examples, train_entity_head

LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "upstream": "*",
    "pooling": {"@layers": "reduce_mean.v1"},
}


def conv_stack(width=16, depth=2, window=1, pad=None):
    encoder = registry.get("architectures", "spacy.MaxoutWindowEncoder.v2")(
        width=width, window_size=window, maxout_pieces=3, depth=depth
    )
    return with_array(chain(Linear(nO=width), encoder, Linear(nO=7)), pad=depth * window if pad is None else pad)


@pytest.mark.parametrize("window,depth", [(1, 2), (2, 1), (1, 4)])
def test_conv_stack_matches_thinc_on_docs_of_any_length(window, depth):
    fix_random_seed(0)
    rng = numpy.random.RandomState(0)
    model = conv_stack(depth=depth, window=window)
    # An empty doc between others, and one-token docs: the padding between docs must match thinc's.
    Xs = [rng.normal(size=(n, 10)).astype("float32") for n in (5, 0, 1, 13, 1)]
    model.initialize(X=Xs)
    # Layer norms and biases away from their initial values, so that a slip in any of them shows.
    for node in model.walk():
        for name in node.param_names:
            if node.has_param(name):
                node.set_param(name, node.get_param(name) + rng.normal(scale=0.3, size=node.get_param(name).shape).astype("float32"))
    with thinc_prediction():
        expected = model.predict(Xs)
    got = fast_predict.predict(model, Xs)
    assert [g.shape for g in got] == [e.shape for e in expected]
    for g, e in zip(got, expected):
        numpy.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)


def test_maxout_scorer_on_an_array_matches_thinc():
    fix_random_seed(1)
    rng = numpy.random.RandomState(1)
    scorer = chain(Maxout(nO=6, nP=2, dropout=0.1, normalize=True), Linear(nO=4))
    X = rng.normal(size=(9, 5)).astype("float32")
    scorer.initialize(X=X)
    numpy.testing.assert_allclose(fast_predict.predict(scorer, X), scorer.predict(X), rtol=1e-4, atol=1e-5)


def test_unknown_layer_falls_back_to_thinc():
    from thinc.api import Relu

    model = chain(Linear(nO=3), Relu(nO=2))
    X = numpy.ones((2, 4), dtype="float32")
    model.initialize(X=X)
    numpy.testing.assert_array_equal(fast_predict.predict(model, X), model.predict(X))


def test_parameters_are_read_at_every_call():
    """Training changes the weights after the first prediction: the path must see the new ones."""
    model = with_array(Linear(nO=2, nI=3), pad=0)
    Xs = [numpy.ones((2, 3), dtype="float32")]
    model.initialize(X=Xs)
    first = fast_predict.predict(model, Xs)[0].copy()
    linear = model.layers[0]
    linear.set_param("b", linear.get_param("b") + 1.0)
    numpy.testing.assert_allclose(fast_predict.predict(model, Xs)[0], first + 1.0, rtol=1e-6)


def test_trained_head_decodes_the_same_entities_both_ways():
    install_extensions()
    fix_random_seed(0)
    nlp = spacy.blank("en")
    model = {"@architectures": "spacy_scicls.SpanEntityScorer.v2", "max_width": 3, "tok2vec": LISTENER,
             "input_dropout": 0.0, "context_depth": 2, "context_width": 16, "span_width": 16, "hidden_width": 16}
    texts = ["heat wave hit Europe", "floods and heat wave in May", "a long heat wave"]
    examples = planted_entity_examples(nlp, texts, repeat=3, width=8)
    head = train_entity_head(nlp, {"ents_policy": "replace", "model": model}, examples, steps=30)
    docs = [with_token_vectors(eg.reference, eg.predicted._.trf_data.model_output.last_hidden_state[0]) for eg in examples]
    fast = head.predict(docs)[1]
    with thinc_prediction():
        slow = head.predict(docs)[1]
    numpy.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)
    found = [[(e.start, e.end, e.label_) for e in doc.ents] for doc in head.pipe(docs)]
    assert all(f == [(eg.reference.ents[0].start, eg.reference.ents[0].end, "hazard")] for f, eg in zip(found, examples))
