"""spacy_scicls.entities.transfer and --init-from: a head's shared layers moved to a head of
other labels, whose output layer stays its own."""
import argparse
import sys

import numpy
import pytest
import spacy
from spacy_transformers import install_extensions

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

import evaluate_entities  # noqa: E402
from spacy_scicls.entities.transfer import (  # noqa: E402
    load_shared_weights,
    read_shared_weights,
    save_shared_weights,
    shared_weights,
)
from tiny_data import planted_entity_examples  # noqa: E402


def head_args(**changes):
    settings = dict(
        encoder=evaluate_entities.DEFAULT_ENCODER, max_width=3, architecture="v2", span_width=16, hidden_width=16,
        layer_norm=True, prune_ratio=0.5, context_width=16, context_depth=1, context_window=1, input_dropout=0.0,
        features_width=8, positive_weight=5.0, seed=0, learn_rate=0.01, l2=0.0, averages=True, batch_size=4,
        dropout=0.0, lr_decay=1.0,
    )
    settings.update(changes)
    return argparse.Namespace(**settings)


TEXTS = ["heat wave hit Europe", "floods and a heat wave in May", "a long heat wave"]


@pytest.fixture(scope="module")
def source():
    """A head trained on two labels (the planted span as "hazard" or "event")."""
    install_extensions()  # doc._.trf_data
    nlp = spacy.blank("en")
    examples = planted_entity_examples(nlp, TEXTS, repeat=2, width=384)
    examples += planted_entity_examples(nlp, TEXTS[:1], repeat=2, width=384, label="event")
    return evaluate_entities.refit(head_args(), "scicls", examples, epochs=3).get_pipe("scicls")


@pytest.fixture(scope="module")
def target_examples():
    return planted_entity_examples(spacy.blank("en"), TEXTS, repeat=3, width=384, label="variable")


def output_params(component):
    out = component.model.get_ref("output_layer")
    return {name: numpy.array(out.get_param(name)) for name in out.param_names}


def test_shared_weights_leave_out_the_output_layer(source):
    weights = shared_weights(source.model)
    out = source.model.get_ref("output_layer")
    assert weights and all(key.split("/")[-1] in ("W", "b", "G", "E", "W_width", "b_width") for key in weights)
    out_index = [i for i, node in enumerate(source.model.walk()) if node is out][0]
    assert not any(key.startswith(f"{out_index}/") for key in weights)
    every = sum(len(node.param_names) for node in source.model.walk())
    assert len(weights) == every - len(out.param_names)
    assert len(source.labels) == 2


def test_init_from_copies_the_shared_layers_and_keeps_a_fresh_output_layer(source, target_examples, tmp_path):
    path = tmp_path / "shared.npz"
    save_shared_weights(source.model, path)
    plain = evaluate_entities.refit(head_args(), "scicls", target_examples, epochs=0).get_pipe("scicls")
    started = evaluate_entities.refit(head_args(init_from=str(path)), "scicls", target_examples,
                                      epochs=0).get_pipe("scicls")
    assert list(started.labels) == ["variable"]
    copied, expected = shared_weights(started.model), read_shared_weights(path)
    assert copied.keys() == expected.keys()
    assert all(numpy.array_equal(copied[key], expected[key]) for key in expected)
    assert not numpy.array_equal(shared_weights(plain.model)[next(iter(expected))], expected[next(iter(expected))])
    # The output layer is the fresh one a head without --init-from gets (same seed).
    for name, value in output_params(plain).items():
        assert numpy.array_equal(output_params(started)[name], value)
    # And it trains: the planted entity is found with its new label.
    trained = evaluate_entities.refit(head_args(init_from=str(path)), "scicls", target_examples, epochs=12)
    assert evaluate_entities.predict(trained, "scicls", target_examples) == [
        evaluate_entities.gold_set(eg.reference) for eg in target_examples]


def test_weights_of_another_architecture_are_refused(source, target_examples):
    other = evaluate_entities.refit(head_args(span_width=8), "scicls", target_examples, epochs=0).get_pipe("scicls")
    with pytest.raises(ValueError, match="shape"):
        load_shared_weights(other.model, shared_weights(source.model))
    no_features = evaluate_entities.refit(head_args(features_width=0), "scicls", target_examples,
                                          epochs=0).get_pipe("scicls")
    with pytest.raises(ValueError, match="do not fit"):
        load_shared_weights(no_features.model, shared_weights(source.model))
