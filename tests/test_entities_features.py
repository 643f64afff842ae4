"""SpanEntityScorer.v2 options: the head's own token-form features, input dropout, wider convolutions."""
import numpy
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from spacy_transformers import install_extensions
from thinc.api import fix_random_seed

from spacy_scicls.entities.frozen import with_token_vectors
from tiny_data import set_listener_width, train_entity_head

LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "upstream": "*",
    "pooling": {"@layers": "reduce_mean.v1"},
}
FEATURES = {
    "@architectures": "spacy.MultiHashEmbed.v2",
    "width": 16,
    "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
    "rows": [500, 100, 250, 250],
    "include_static_vectors": False,
}
TEXTS = ["we saw Kenya and then rain", "rain fell on Peru today", "the Andes had rain", "in Chile it rained"]


def v2_model(**settings):
    return {"@architectures": "spacy_scicls.SpanEntityScorer.v2", "max_width": 2, "tok2vec": LISTENER,
            "prune_ratio": 0.0, **settings}


def capitalised_examples(nlp, seed=0):
    """Places are the capitalised words; the token vectors are noise, so only
    the form of a word tells an entity."""
    install_extensions()  # doc._.trf_data
    rng = numpy.random.RandomState(seed)
    examples = []
    for text in TEXTS * 3:
        gold = nlp.make_doc(text)
        ents = [Span(gold, t.i, t.i + 1, label="place") for t in gold if t.text[0].isupper()]
        gold.set_ents(ents, default="outside")
        vectors = rng.normal(scale=0.1, size=(len(gold), 8)).astype("float32")
        examples.append(Example(with_token_vectors(gold, vectors), gold))
    return examples


def trained_head(model, examples, steps=40):
    install_extensions()
    fix_random_seed(0)
    return train_entity_head(spacy.blank("en"), {"ents_policy": "replace", "model": model}, examples, steps=steps)


def found(head, examples):
    docs = [with_token_vectors(eg.reference, eg.predicted._.trf_data.model_output.last_hidden_state[0]) for eg in examples]
    return [[(e.text, e.label_) for e in doc.ents] for doc in head.pipe(docs)]


@pytest.fixture(scope="module")
def feature_head():
    nlp = spacy.blank("en")
    return trained_head(v2_model(features=FEATURES), capitalised_examples(nlp)), nlp


def test_token_features_tell_what_the_shared_vectors_do_not(feature_head):
    head, nlp = feature_head
    unseen = capitalised_examples(nlp, seed=1)  # fresh noise vectors
    expected = [[(t.text, "place") for t in eg.reference if t.text[0].isupper()] for eg in unseen]
    assert found(head, unseen[:4]) == expected[:4]
    # The same head without features cannot tell them from noise.
    plain = trained_head(v2_model(features=None), capitalised_examples(nlp))
    assert found(plain, unseen[:4]) != expected[:4]


def test_round_trip_keeps_the_token_features(feature_head):
    head, nlp = feature_head
    copy = spacy.blank("en").add_pipe("scicls_entities", config={"model": v2_model(features=FEATURES)})
    set_listener_width(copy, 8)
    copy.from_bytes(head.to_bytes())
    docs = [eg.predicted for eg in capitalised_examples(nlp)[:4]]
    numpy.testing.assert_allclose(copy.predict(docs)[1], head.predict(docs)[1], rtol=1e-6)
    empty = with_token_vectors(nlp.make_doc(""), numpy.zeros((0, 8), "float32"))
    assert list(head.pipe([empty, docs[0]]))[0].ents == ()
    assert list(head.pipe([empty]))[0].ents == ()


def test_input_dropout_acts_in_training_only():
    nlp = spacy.blank("en")
    examples = capitalised_examples(nlp)
    head = trained_head(v2_model(input_dropout=0.5, features=FEATURES), examples, steps=5)
    docs = [eg.predicted for eg in examples[:2]]
    _, candidates = head._candidates(docs)
    first, _ = head.model((docs, candidates), is_train=True)
    second, _ = head.model((docs, candidates), is_train=True)
    assert not numpy.allclose(first, second)
    numpy.testing.assert_allclose(head.predict(docs)[1], head.predict(docs)[1])
    # The step's own dropout rate does not reach it.
    head.update(examples[:2], drop=0.0)
    assert head.model.attrs["input_dropout"] == 0.5
    with pytest.raises(ValueError, match="input_dropout"):
        spacy.blank("en").add_pipe("scicls_entities", config={"model": v2_model(input_dropout=1.0)})
    with pytest.raises(ValueError, match="context_window"):
        spacy.blank("en").add_pipe(
            "scicls_entities", config={"model": v2_model(context_width=8, context_depth=1, context_window=0)}
        )


def test_wider_convolution_window_reaches_further():
    nlp = spacy.blank("en")
    examples = capitalised_examples(nlp)
    model = v2_model(context_width=8, context_depth=1, context_window=2, features=None, input_dropout=0.0)
    head = trained_head(model, examples, steps=1)
    projection = head.model.layers[1]
    vectors = examples[0].predicted._.trf_data.model_output.last_hidden_state[0]
    changed = vectors.copy()
    changed[0] += 1.0
    before, after = projection.predict([vectors])[0], projection.predict([changed])[0]
    assert not numpy.allclose(before[2], after[2]) and numpy.allclose(before[3:], after[3:])
