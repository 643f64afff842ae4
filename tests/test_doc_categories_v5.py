"""DocClassifier.v5: the v4 head beside a lexical part (tf-idf n-grams, a linear layer):
its features, its mix, that spaCy training works on it, that it survives to_disk /
spacy.load, and that it sees words the dense part does not."""
import numpy
import pytest
import spacy
from thinc.api import Adam, fix_random_seed

from spacy_scicls.ml.lexical import fit_lexicon, lexical_features, lexicon_size, ngram_keys
from spacy_scicls.training.frozen import (
    lexical_rows, predict_classifier, predict_lexical, train_classifier, train_lexical,
)

from test_doc_categories import LISTENER, category_pipeline, examples_for

V5 = {"@architectures": "spacy_scicls.DocClassifier.v5", "hidden_width": 0, "neighbours": 2,
      "neighbour_weight": 0.5, "neighbour_temperature": 0.1, "lexical_weight": 0.5, "lexicon_min_df": 1,
      "tok2vec": LISTENER}


def v5_pipeline(tiny_bert, **model):
    nlp = category_pipeline(tiny_bert)
    for name in ("arxiv", "hrcs_hc"):
        nlp.replace_pipe(name, "scicls_doc_categories", config={
            "taxonomy": name, "loss": "cross_entropy", "model": {**V5, **model},
        })
    return nlp


def test_ngram_keys_are_lowercased_unigrams_and_bigrams_without_punctuation():
    from thinc.api import NumpyOps

    nlp = spacy.blank("en")
    ops = NumpyOps()
    a = nlp.make_doc("Heart failure, in STROKE patients")
    b = nlp.make_doc("heart failure in stroke patients")
    keys_a = ngram_keys(a, numpy.arange(len(a)), 2, ops)
    keys_b = ngram_keys(b, numpy.arange(len(b)), 2, ops)
    assert len(keys_a) == 5 + 4 and keys_a.dtype == numpy.uint64
    numpy.testing.assert_array_equal(keys_a, keys_b)
    assert len(ngram_keys(a, numpy.arange(len(a)), 1, ops)) == 5
    assert len(ngram_keys(a, numpy.zeros((0,), "int64"), 2, ops)) == 0


def test_lexicon_keeps_ngrams_of_several_docs_and_rows_are_unit_tf_idf():
    nlp = spacy.blank("en")
    layer = lexical_features(max_tokens=64)
    layer.initialize()
    docs = [nlp.make_doc(t) for t in ("stroke care", "stroke care trial", "cancer trial", "quasar")]
    assert lexical_features(64).predict(docs[:1])[0][0].size == 0  # no lexicon: empty rows
    assert fit_lexicon(layer, docs, min_df=2) == lexicon_size(layer) == 4  # stroke, care, trial, "stroke care"
    assert fit_lexicon(layer, docs, min_df=1, max_features=2) == 2  # the most frequent ones
    fit_lexicon(layer, docs, min_df=2)
    rows = layer.predict(docs + [nlp.make_doc(""), nlp.make_doc("quasar quasar")])
    columns, values = rows[1]
    assert len(columns) == 4 and numpy.isclose(numpy.sqrt((values ** 2).sum()), 1.0)
    assert len(rows[3][0]) == 0 and len(rows[4][0]) == 0 and len(rows[5][0]) == 0  # unknown or no words
    with pytest.raises(ValueError, match="min_df"):
        fit_lexicon(layer, docs, min_df=0)


def test_v5_round_trip_gives_identical_scores_and_empty_docs_get_no_labels(tiny_bert, tmp_path):
    fix_random_seed(0)
    nlp = v5_pipeline(tiny_bert)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("hrcs_hc")
    n_words = lexicon_size(head.model.get_ref("lexical_features"))
    assert n_words > 20  # fitted by initialize on every training doc
    assert head.model.get_ref("lexical_output").get_param("W").shape == (n_words, len(head.labels))
    optimizer = Adam(0.01)
    losses = [nlp.update(examples, sgd=optimizer) for _ in range(12)]
    assert losses[-1]["hrcs_hc"] < losses[0]["hrcs_hc"] * 0.7
    texts = [eg.reference.text for eg in examples] + ["", "A trial for cancer patients"]
    before = [doc.cats for doc in nlp.pipe(texts)]
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert lexicon_size(loaded.get_pipe("hrcs_hc").model.get_ref("lexical_features")) == n_words
    after = [doc.cats for doc in loaded.pipe(texts)]
    for a, b in zip(before, after):
        assert a.keys() == b.keys() and max(abs(a[k] - b[k]) for k in a) == 0.0
    empty = loaded("")
    assert len([k for k in empty.cats if k.startswith("hrcs_hc/")]) == len(head.labels)
    assert empty._.scicls_labels.get("hrcs_hc", []) == [] and empty._.scicls_labels.get("arxiv", []) == []


def test_spacy_train_runs_on_v5(tiny_bert, tmp_path):
    from spacy.cli.train import train
    from spacy.tokens import DocBin

    nlp = v5_pipeline(tiny_bert)
    examples = examples_for(nlp)
    DocBin(docs=[eg.reference for eg in examples]).to_disk(tmp_path / "train.spacy")
    config = nlp.config.copy()
    config["paths"].update({"train": str(tmp_path / "train.spacy"), "dev": str(tmp_path / "train.spacy")})
    config["corpora"] = {
        "train": {"@readers": "spacy.Corpus.v1", "path": "${paths.train}"},
        "dev": {"@readers": "spacy.Corpus.v1", "path": "${paths.dev}"},
    }
    config["training"]["max_steps"] = 6
    config["training"]["eval_frequency"] = 3
    config["training"]["score_weights"] = {"cats_arxiv_micro_f": 0.5, "cats_hrcs_hc_micro_f": 0.5}
    config.to_disk(tmp_path / "config.cfg")
    train(tmp_path / "config.cfg", tmp_path / "out", use_gpu=-1)
    trained = spacy.load(tmp_path / "out" / "model-last")
    head = trained.get_pipe("hrcs_hc")
    assert lexicon_size(head.model.get_ref("lexical_features")) > 0
    assert len([k for k in trained("Surgery for cancer").cats if k.startswith("hrcs_hc/")]) == len(head.labels)


def test_lexical_part_learns_a_word_the_dense_part_cannot_see(tiny_bert):
    """A label signalled by one word only: trained on cached rows, the lexical part
    picks it up (the dense part's rows are made uninformative here), and the mixed
    probability of a new doc with that word rises."""
    nlp = v5_pipeline(tiny_bert, lexical_weight=0.5, neighbour_weight=0.0)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("arxiv")
    texts = [f"Observations of {'quasar' if i % 2 else 'galaxy'} number {i}" for i in range(40)]
    docs = [nlp.make_doc(t) for t in texts]
    from spacy_scicls.ml.doc_classifier_lexical import fit_head_lexicon

    fit_head_lexicon(head.model, docs)
    y = numpy.zeros((40, len(head.labels)), "float32")
    y[1::2, 0] = 1.0  # the first label whenever "quasar" is in the text
    mask = numpy.ones((40, 1), "float32")
    width = head.model.get_ref("standardize").get_dim("nI")
    X = numpy.random.RandomState(0).normal(size=(40, width)).astype("float32")  # noise: nothing to learn
    train_classifier(head, X, (y, mask), epochs=2)
    rows = lexical_rows(head, docs)
    train_lexical(head, rows, (y, mask), epochs=30)
    p_lex = predict_lexical(head, lexical_rows(head, [nlp.make_doc("a quasar"), nlp.make_doc("a galaxy")]))
    assert p_lex[0, 0] > 0.8 and p_lex[1, 0] < 0.2
    new = [nlp.make_doc("A new quasar survey"), nlp.make_doc("A new galaxy survey")]
    X_new = X[:2]  # the same dense rows for both docs: only the word differs
    mixed = predict_classifier(head, X_new, lexical_rows(head, new))
    assert mixed[0, 0] - mixed[1, 0] > 0.3
    with pytest.raises(ValueError, match="lexical rows"):
        predict_classifier(head, X_new)
    # weight 0: the dense head alone
    head.model.attrs["lexical_weight"] = 0.0
    numpy.testing.assert_allclose(predict_classifier(head, X_new), head.model.get_ref("scorer").predict(X_new))


def test_v5_refuses_exclusive_classes_and_bad_weights():
    build = spacy.registry.architectures.get("spacy_scicls.DocClassifier.v5")
    with pytest.raises(ValueError, match="multi-label"):
        build(tok2vec=None, exclusive_classes=True)
    with pytest.raises(ValueError, match="lexical_weight"):
        build(tok2vec=None, lexical_weight=1.5)


@pytest.mark.parametrize("how", ["probability", "logit"])
def test_mix_ends_and_gradients(how):
    from spacy_scicls.ml.doc_classifier_lexical import mix_probabilities

    rng = numpy.random.RandomState(0)
    P = rng.uniform(0.05, 0.95, size=(3, 4)).astype("float32")
    L = rng.uniform(0.05, 0.95, size=(3, 4)).astype("float32")
    numpy.testing.assert_allclose(mix_probabilities(P, L, 0.0, how)[0], P, atol=1e-5)
    numpy.testing.assert_allclose(mix_probabilities(P, L, 1.0, how)[0], L, atol=1e-5)
    Y, backprop = mix_probabilities(P, L, 0.3, how)
    assert ((Y > numpy.minimum(P, L) - 1e-6) & (Y < numpy.maximum(P, L) + 1e-6)).all()
    dP, dL = backprop(numpy.ones_like(Y))
    eps = 1e-3
    numeric_P = (mix_probabilities(P + eps, L, 0.3, how)[0] - mix_probabilities(P - eps, L, 0.3, how)[0]) / (2 * eps)
    numeric_L = (mix_probabilities(P, L + eps, 0.3, how)[0] - mix_probabilities(P, L - eps, 0.3, how)[0]) / (2 * eps)
    numpy.testing.assert_allclose(dP, numeric_P, rtol=2e-2, atol=1e-3)
    numpy.testing.assert_allclose(dL, numeric_L, rtol=2e-2, atol=1e-3)
    with pytest.raises(ValueError, match="lexical_mix"):
        spacy.registry.architectures.get("spacy_scicls.DocClassifier.v5")(tok2vec=None, lexical_mix="sum")
