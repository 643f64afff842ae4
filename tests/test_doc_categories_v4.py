"""DocClassifier.v4: the v3 classifier mixed with a vote of stored training docs
(the neighbour vote): what it votes, how it mixes, that spaCy training still works
without stored docs, and that the stored docs survive to_disk / spacy.load."""
import numpy
import pytest
import spacy
from thinc.api import Adam, fix_random_seed

from spacy_scicls.ml.doc_classifier import fit_neighbours, n_neighbours_stored, neighbour_vote
from spacy_scicls.training.frozen import predict_classifier, store_neighbours, train_classifier

from test_doc_categories import LISTENER, category_pipeline, examples_for

V4 = {"@architectures": "spacy_scicls.DocClassifier.v4", "hidden_width": 0, "neighbours": 2,
      "neighbour_weight": 0.5, "neighbour_temperature": 0.1, "tok2vec": LISTENER}


def v4_pipeline(tiny_bert, **model):
    nlp = category_pipeline(tiny_bert)
    for name in ("arxiv", "hrcs_hc"):
        nlp.replace_pipe(name, "scicls_doc_categories", config={
            "taxonomy": name, "loss": "cross_entropy", "model": {**V4, **model},
        })
    return nlp


def rows(means, width=4):
    """Pooled rows (mean | max | title mean) whose mean part is ``means``."""
    means = numpy.asarray(means, dtype="float32")
    return numpy.hstack([means, numpy.zeros((len(means), 2 * width), "float32")])


def test_neighbour_vote_takes_the_labels_of_the_nearest_stored_docs():
    layer = neighbour_vote(k=2, temperature=0.01)
    layer.initialize()
    X = rows([[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 0, 1, 0], [0, 0, 0.9, 0.1], [0, 1, 0, 1], [1, 0, 1, 0]])
    y = numpy.asarray([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [0, 0]], "float32")  # last two: out of field
    fit_neighbours(layer, X, y)
    assert n_neighbours_stored(layer) == 6 and layer.get_param("keys").dtype == numpy.float16
    votes = layer.predict(rows([[1, 0.05, 0, 0], [0, 0, 1, 0.05], [0, 1, 0, 1.1]]))
    numpy.testing.assert_allclose(votes, [[1, 0], [0, 1], [0, 0]], atol=1e-3)
    # all stored docs voting, the temperature decides how much the nearest count
    layer.attrs["k"] = 6
    layer.attrs["temperature"] = 1000.0
    numpy.testing.assert_allclose(layer.predict(rows([[1, 0, 0, 0]])), [[2 / 6, 2 / 6]], atol=1e-2)


@pytest.mark.parametrize("bad, match", [
    (dict(X=numpy.zeros((3, 5), "float32")), "pooled rows"),
    (dict(y=numpy.zeros((2, 2), "float32")), "rows of truths"),
    (dict(y=numpy.full((3, 2), 0.5, "float32")), "0 or 1"),
])
def test_fit_neighbours_refuses_bad_input(bad, match):
    layer = neighbour_vote()
    X = bad.get("X", rows([[1, 0, 0, 0]] * 3))
    with pytest.raises(ValueError, match=match):
        fit_neighbours(layer, X, bad.get("y", numpy.zeros((3, 2), "float32")))
    with pytest.raises(ValueError, match="k must"):
        neighbour_vote(k=0)
    with pytest.raises(ValueError, match="temperature"):
        neighbour_vote(temperature=0)


def test_v4_trains_with_spacy_as_v3_and_mixes_once_neighbours_are_stored(tiny_bert, tmp_path):
    fix_random_seed(0)
    nlp = v4_pipeline(tiny_bert)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("hrcs_hc")
    assert n_neighbours_stored(head.model.get_ref("neighbours")) == 0
    optimizer = Adam(0.01)
    losses = [nlp.update(examples, sgd=optimizer, drop=0.0) for _ in range(12)]
    assert losses[-1]["hrcs_hc"] < losses[0]["hrcs_hc"] * 0.7
    # no stored docs: the scorer is the classifier alone
    rng = numpy.random.RandomState(0)
    width = head.model.get_ref("standardize").get_param("mean").shape[0]
    X = rng.normal(size=(12, width)).astype("float32")
    classifier = head.model.get_ref("classifier").predict(X)
    numpy.testing.assert_allclose(predict_classifier(head, X), classifier, atol=1e-6)
    # stored: half classifier, half the vote of the 2 nearest training rows
    y = numpy.zeros((12, len(head.labels)), "float32")
    y[:6, 0] = 1.0
    assert store_neighbours(head, X, y) == 12
    vote = head.model.get_ref("neighbours").predict(X)
    numpy.testing.assert_allclose(vote[:, 0][:6], 1.0, atol=1e-3)  # a stored row is its own nearest neighbour
    numpy.testing.assert_allclose(predict_classifier(head, X), 0.5 * classifier + 0.5 * vote, atol=1e-5)
    texts = [eg.reference.text for eg in examples] + [""]
    # the stored vote reaches raw text through the pipeline, and survives saving
    before = [doc.cats for doc in nlp.pipe(texts)]
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert n_neighbours_stored(loaded.get_pipe("hrcs_hc").model.get_ref("neighbours")) == 12
    after = [doc.cats for doc in loaded.pipe(texts)]
    for a, b in zip(before, after):
        assert a.keys() == b.keys() and max(abs(a[k] - b[k]) for k in a) < 1e-5
    empty = loaded("")
    assert empty._.scicls_labels.get("hrcs_hc", []) == []


def test_store_neighbours_leaves_heads_without_a_vote_alone(tiny_bert):
    nlp = category_pipeline(tiny_bert)  # v2 heads
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("arxiv")
    assert store_neighbours(head, numpy.zeros((2, 6), "float32"), numpy.zeros((2, len(head.labels)))) == 0
    with pytest.raises(ValueError, match="neighbour_weight"):
        spacy.registry.architectures.get("spacy_scicls.DocClassifier.v4")(tok2vec=None, neighbour_weight=1.5)


def test_cached_training_then_storing_changes_predictions_of_the_mix(tiny_bert):
    nlp = v4_pipeline(tiny_bert, neighbours=1)
    examples = examples_for(nlp)
    nlp.initialize(lambda: examples)
    head = nlp.get_pipe("arxiv")
    width = head.model.get_ref("standardize").get_param("mean").shape[0]
    rng = numpy.random.RandomState(3)
    X = rng.normal(size=(20, width)).astype("float32")
    y = numpy.zeros((20, len(head.labels)), "float32")
    y[numpy.arange(20), numpy.arange(20) % len(head.labels)] = 1.0
    train_classifier(head, X, (y, numpy.ones((20, 1), "float32")), epochs=2)
    before = predict_classifier(head, X)
    store_neighbours(head, X, y)
    after = predict_classifier(head, X)
    # with one neighbour (itself), each training row's own labels get half the probability mass
    numpy.testing.assert_allclose(after, 0.5 * before + 0.5 * y, atol=1e-3)


def test_cross_validation_script_reads_candidates_and_refuses_bad_ones():
    import sys

    from conftest import REPO

    sys.path.insert(0, str(REPO / "scripts"))
    from cv_categories import parse_candidate

    assert parse_candidate("256:0.5:30") == (256, 0.5, 30)
    for bad in ("256:0.5", "x:0.5:30", "1024:0.5:30", "256:1.5:30", "256:0.5:0"):
        with pytest.raises(SystemExit):
            parse_candidate(bad)


def test_nihr_plain_english_summary_is_kept_apart_from_the_text(tmp_path):
    import csv

    from spacy_scicls.corpora import read_hrcs_nihr

    path = tmp_path / "nihr-summary-view.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Project_Title", "Plain_English_Abstract", "Scientific_Abstract", "HRCS _Health_Category",
                         "UKCRC_Value_RAC"])
        writer.writerow(["A coil trial", " Heavy periods: does a coil help? ", "A trial of a coil.",
                         "Reproductive Health and Childbirth", "6.3 Medical devices"])
    record, = read_hrcs_nihr(tmp_path)
    assert record.summary == "Heavy periods: does a coil help?"
    assert record.text == "A coil trial\n\nA trial of a coil."
