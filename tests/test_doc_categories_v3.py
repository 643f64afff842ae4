"""DocClassifier.v3: standardised pooled features, a linear or MLP classifier,
trained with spaCy or on cached rows with weight decay; empty docs and saving."""
import numpy
import pytest
import spacy
from thinc.api import Adam, fix_random_seed

from spacy_scicls.ml.doc_classifier import fit_standardizer, standardize
from spacy_scicls.training.frozen import predict_classifier, train_classifier

from test_doc_categories import LISTENER, category_pipeline, examples_for


def v3_pipeline(tiny_bert, hidden_width):
    nlp = category_pipeline(tiny_bert)
    for name in ("arxiv", "hrcs_hc"):
        nlp.replace_pipe(name, "scicls_doc_categories", config={
            "taxonomy": name, "loss": "cross_entropy",
            "model": {"@architectures": "spacy_scicls.DocClassifier.v3", "hidden_width": hidden_width,
                      "tok2vec": LISTENER},
        })
    return nlp


def test_v3_heads_train_with_spacy_and_survive_to_disk(tiny_bert, tmp_path):
    fix_random_seed(0)
    nlp = v3_pipeline(tiny_bert, 0)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("arxiv")
    scaler = head.model.get_ref("standardize")
    # before the transformer has run, the listener's rows are all zeros: identity, never a blow-up
    assert numpy.array_equal(scaler.get_param("mean"), numpy.zeros_like(scaler.get_param("mean")))
    assert numpy.array_equal(scaler.get_param("scale"), numpy.ones_like(scaler.get_param("scale")))
    optimizer = Adam(0.01)
    losses = [nlp.update(examples, sgd=optimizer, drop=0.0) for _ in range(12)]
    assert losses[-1]["arxiv"] < losses[0]["arxiv"] * 0.7
    # the optimizer never moves the fitted mean and scale
    assert numpy.array_equal(scaler.get_param("mean"), nlp.get_pipe("arxiv").model.get_ref("standardize").get_param("mean"))
    texts = [eg.reference.text for eg in examples] + [""]
    before = [doc.cats for doc in nlp.pipe(texts)]
    assert before[-1] and all(0.0 <= p <= 1.0 for p in before[-1].values())
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    after = [doc.cats for doc in loaded.pipe(texts)]
    for a, b in zip(before, after):
        assert a.keys() == b.keys()
        assert max(abs(a[k] - b[k]) for k in a) < 1e-5
    assert loaded.get_pipe("arxiv").model.get_ref("standardize").get_param("scale").shape == scaler.get_param("scale").shape


@pytest.mark.parametrize("hidden_width", [0, 8])
def test_v3_head_is_linear_without_hidden_width(tiny_bert, hidden_width):
    nlp = v3_pipeline(tiny_bert, hidden_width)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    names = [node.name for node in nlp.get_pipe("hrcs_hc").model.get_ref("classifier").walk()]
    assert any("maxout" in n for n in names) == (hidden_width > 0)
    with pytest.raises(ValueError, match="hidden_width"):
        spacy.registry.architectures.get("spacy_scicls.DocClassifier.v3")(tok2vec=None, hidden_width=-1)


def test_standardize_fits_mean_and_scale_and_passes_gradients_scaled():
    layer = standardize()
    X = numpy.asarray([[1.0, 10.0, 5.0], [3.0, 30.0, 5.0]], dtype="float32")
    layer.initialize(X=X)
    Y, backprop = layer.begin_update(X)
    numpy.testing.assert_allclose(Y[:, :2], [[-1, -1], [1, 1]], atol=1e-6)
    # a constant column is floored, not divided by zero
    assert numpy.isfinite(Y).all() and numpy.allclose(Y[:, 2], 0)
    dX = backprop(numpy.ones_like(Y))
    numpy.testing.assert_allclose(dX[:, 0], [1.0, 1.0], atol=1e-6)
    numpy.testing.assert_allclose(dX[:, 1], [0.1, 0.1], atol=1e-6)
    with pytest.raises(ValueError, match="columns"):
        fit_standardizer(layer, numpy.zeros((2, 4), "float32"))


def test_cached_training_fits_the_standardizer_on_all_rows_and_weight_decay_shrinks_weights(tiny_bert):
    nlp = v3_pipeline(tiny_bert, 0)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("hrcs_hc")
    rng = numpy.random.RandomState(0)
    width = head.model.get_ref("standardize").get_param("mean").shape[0]
    X = rng.normal(3.0, 2.0, size=(40, width)).astype("float32")
    y = numpy.zeros((40, len(head.labels)), "float32")
    y[numpy.arange(40), X[:, 0].argsort().argsort() % len(head.labels)] = 1.0
    norms = {}
    output = head.model.get_ref("output_layer")
    for l2 in (0.0, 10.0):
        fix_random_seed(0)
        output.set_param("W", output.get_param("W") * 0)
        train_classifier(head, X, (y, numpy.ones((40, 1), "float32")), epochs=5, l2=l2, learn_rate=0.01)
        numpy.testing.assert_allclose(head.model.get_ref("standardize").get_param("mean"), X.mean(0), rtol=1e-4)
        norms[l2] = float(numpy.linalg.norm(head.model.get_ref("output_layer").get_param("W")))
        assert predict_classifier(head, X).shape == y.shape
    assert norms[10.0] < norms[0.0] * 0.8


def test_prior_bias_starts_a_linear_head_at_the_label_frequencies(tiny_bert):
    nlp = v3_pipeline(tiny_bert, 0)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("hrcs_hc")
    output = head.model.get_ref("output_layer")
    assert not output.get_param("W").any()  # zero weights: the head starts as the prior
    width = head.model.get_ref("standardize").get_param("mean").shape[0]
    X = numpy.random.RandomState(1).normal(size=(20, width)).astype("float32")
    y = numpy.zeros((20, len(head.labels)), "float32")
    y[:5, 0] = 1.0  # label 0 in a quarter of the docs, the others never
    mask = numpy.ones((20, 1), "float32")
    train_classifier(head, X, (y, mask), epochs=0, prior_bias=True)
    probs = predict_classifier(head, X)
    numpy.testing.assert_allclose(probs[:, 0], (5 + 0.5) / (20 + 1), rtol=1e-4)
    numpy.testing.assert_allclose(probs[:, 1:], 0.5 / 21, rtol=1e-4)
    with pytest.raises(ValueError, match="outputs"):
        train_classifier(head, X, (y[:, :1], mask), epochs=0, prior_bias=True)
