"""scripts/evaluate_entities.py --refit: the head trained afresh on train + dev, threshold from dev."""
import argparse
import sys

import numpy
from spacy.tokens import Span
from spacy.training import Example

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

import evaluate_entities  # noqa: E402

from spacy_scicls.entities.frozen import with_token_vectors  # noqa: E402


def head_args(**changes):
    settings = dict(
        encoder=evaluate_entities.DEFAULT_ENCODER, max_width=3, architecture="v2", span_width=16, hidden_width=16,
        layer_norm=True, prune_ratio=0.5, context_width=16, context_depth=1, context_window=1, input_dropout=0.0,
        features_width=0, positive_weight=5.0, seed=0, learn_rate=0.01, l2=0.0, averages=True, batch_size=4,
        dropout=0.0, lr_decay=1.0,
    )
    settings.update(changes)
    return argparse.Namespace(**settings)


def planted_examples(nlp):
    rng = numpy.random.RandomState(0)
    hazard = rng.normal(size=384).astype("float32")
    examples = []
    for text in ["heat wave hit Europe", "floods and a heat wave in May", "a long heat wave"] * 3:
        gold = nlp.make_doc(text)
        start = [t.text for t in gold].index("heat")
        gold.set_ents([Span(gold, start, start + 2, label="hazard")], default="outside")
        vectors = rng.normal(scale=0.1, size=(len(gold), 384)).astype("float32")
        vectors[start : start + 2] += hazard
        examples.append(Example(with_token_vectors(gold, vectors), gold))
    return examples


def test_refit_trains_a_fresh_head_for_the_given_epochs_and_keeps_the_dev_threshold():
    import spacy
    from spacy_transformers import install_extensions

    install_extensions()  # doc._.trf_data
    examples = planted_examples(spacy.blank("en"))
    nlp = evaluate_entities.refit(head_args(), "scicls", examples, epochs=12, threshold=0.65)
    head = nlp.get_pipe("scicls")
    assert nlp.pipe_names == ["transformer", "scicls"]
    assert head.cfg["threshold"] == 0.65
    predicted = evaluate_entities.predict(nlp, "scicls", examples)
    assert predicted == [evaluate_entities.gold_set(eg.reference) for eg in examples]
