"""scripts/evaluate_entities.py: the fold heads of the cross-validated threshold (refit), and per-label thresholds."""
import argparse
import sys

import pytest
import spacy
from spacy_transformers import install_extensions

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

import evaluate_entities  # noqa: E402
from tiny_data import planted_entity_examples  # noqa: E402



def head_args(**changes):
    settings = dict(
        encoder=evaluate_entities.DEFAULT_ENCODER, max_width=3, span_width=16, hidden_width=16,
        layer_norm=True, prune_ratio=0.5, context_width=16, context_depth=1, context_window=1, input_dropout=0.0,
        features_width=0, positive_weight=5.0, seed=0, learn_rate=0.01, l2=0.0, averages=True, batch_size=4,
        dropout=0.0, lr_decay=1.0,
    )
    settings.update(changes)
    return argparse.Namespace(**settings)


@pytest.fixture(scope="module")
def examples():
    install_extensions()  # doc._.trf_data
    texts = ["heat wave hit Europe", "floods and a heat wave in May", "a long heat wave"]
    return planted_entity_examples(spacy.blank("en"), texts, repeat=3, width=384)


@pytest.fixture(scope="module")
def refit_nlp(examples):
    return evaluate_entities.refit(head_args(), "scicls", examples, epochs=12, threshold=0.65)


def test_refit_trains_a_fresh_head_for_the_given_epochs_and_keeps_the_dev_threshold(examples, refit_nlp):
    nlp = refit_nlp
    head = nlp.get_pipe("scicls")
    assert nlp.pipe_names == ["transformer", "scicls"]
    assert head.cfg["threshold"] == 0.65
    predicted = evaluate_entities.predict(nlp, "scicls", examples)
    assert predicted == [evaluate_entities.gold_set(eg.reference) for eg in examples]


def test_cross_validated_threshold_scores_every_training_doc_with_a_head_that_did_not_train_on_it(
    examples, refit_nlp, capsys
):
    train, dev = examples[:6], examples[6:]
    docs = [eg.reference for eg in train]
    vectors = [evaluate_entities._vectors_of(eg) for eg in train]
    trained = []
    real_refit = evaluate_entities.refit

    def recording_refit(args, system, fold_train, epochs, threshold=None):
        trained.append({tuple(evaluate_entities._vectors_of(eg)[0, :4].tolist()) for eg in fold_train})
        return real_refit(args, system, fold_train, epochs, threshold)

    selected = refit_nlp
    evaluate_entities.refit = recording_refit
    try:
        threshold = evaluate_entities.cv_threshold(head_args(cv_folds=2, chunk=0), docs, vectors, dev, 40, selected)
    finally:
        evaluate_entities.refit = real_refit
    assert threshold in evaluate_entities.THRESHOLDS
    assert selected.get_pipe("scicls").cfg["threshold"] == threshold
    # Two fold heads, each trained on three of the six docs: the other fold's, never its own.
    keys = {tuple(v[0, :4].tolist()) for v in vectors}
    assert [len(t) for t in trained] == [3, 3]
    assert not trained[0] & trained[1] and trained[0] | trained[1] == keys
    printed = capsys.readouterr().out
    assert printed.count("cross-validated threshold") == len(evaluate_entities.THRESHOLDS)
    lines = [line.split() for line in printed.splitlines() if "cross-validated threshold" in line]
    by_threshold = {float(words[2].rstrip(":")): float(words[-1]) for words in lines}
    assert max(by_threshold.values()) >= 0.9  # held-out docs: the planted entity is found
    assert max((f, t) for t, f in by_threshold.items())[1] == threshold  # the best F1 (ties: higher threshold)
    with pytest.raises(ValueError, match="cv-folds"):
        evaluate_entities.cv_threshold(head_args(cv_folds=7, chunk=0), docs, vectors, dev, 1, selected)


def test_per_label_thresholds_fitted_on_the_cross_validated_scores(examples, refit_nlp, capsys):
    train, dev = examples[:6], examples[6:]
    docs = [eg.reference for eg in train]
    vectors = [evaluate_entities._vectors_of(eg) for eg in train]
    head = refit_nlp.get_pipe("scicls")
    try:
        evaluate_entities.cv_threshold(head_args(cv_folds=2, chunk=0, label_thresholds=True), docs, vectors, dev, 12,
                                       refit_nlp)
        printed = capsys.readouterr().out
        assert "per-label thresholds, cross-fitted F1 by shrinkage prior" in printed
        # A dict (empty when the global threshold cross-fits best), saved in the cfg with the global one.
        assert isinstance(head.cfg["label_thresholds"], dict)
        assert set(head.cfg["label_thresholds"]) <= {"hazard"}
        assert head.cfg["threshold"] in evaluate_entities.THRESHOLDS
    finally:
        head.cfg["threshold"], head.cfg["label_thresholds"] = 0.65, {}
