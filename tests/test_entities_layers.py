"""Per-token vectors of every hidden state of the encoder, for the entity head's input."""
import numpy
import pytest
import spacy
from spacy_transformers.data_classes import TransformerData
from thinc.api import Ragged
from transformers.utils import ModelOutput

from spacy_scicls.entities.frozen import combine_layers, pooled_layer_vectors, pooled_token_vectors


def synthetic_trf_data():
    """3 tokens over one window of 5 wordpieces in 3 hidden states: token 0 is
    wordpiece 1, token 1 is wordpieces 2-3, token 2 (whitespace) has none."""
    rng = numpy.random.default_rng(0)
    hidden = [rng.normal(size=(1, 5, 4)).astype("float32") for _ in range(3)]
    align = Ragged(numpy.asarray([1, 2, 3], dtype="i"), numpy.asarray([1, 2, 0], dtype="i"))
    data = TransformerData.zeros(5, 4)
    data.model_output = ModelOutput(last_hidden_state=hidden[-1], hidden_states=hidden)
    data.align = align
    return data, hidden


def test_every_hidden_state_pooled_as_the_last_one():
    data, hidden = synthetic_trf_data()
    layers = pooled_layer_vectors(data, 3)
    assert layers.shape == (3, 3, 4) and layers.dtype == numpy.float32
    for k in range(3):
        assert numpy.allclose(layers[k, 0], hidden[k][0, 1])
        assert numpy.allclose(layers[k, 1], hidden[k][0, 2:4].mean(axis=0))
        assert not layers[k, 2].any()
    assert numpy.array_equal(layers[-1], pooled_token_vectors(data, 3))
    assert not numpy.allclose(layers[0], layers[1])


def test_pooling_layers_needs_hidden_states_and_the_right_token_count():
    data, _ = synthetic_trf_data()
    with pytest.raises(ValueError):
        pooled_layer_vectors(data, 4)
    data.model_output = ModelOutput(last_hidden_state=data.model_output.last_hidden_state)
    with pytest.raises(ValueError, match="hidden states"):
        pooled_layer_vectors(data, 3)


def test_layers_of_a_real_encoder_across_windows(tiny_bert):
    """The tiny BERT's embeddings and 2 layers, over overlapping windows: the
    last one equals the shipped pooling of the last hidden state."""
    nlp = spacy.blank("en")
    nlp.add_pipe("transformer", config={"model": {
        "@architectures": "spacy_scicls.TransformerModel.v1",
        "name": str(tiny_bert),
        "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 16, "stride": 12},
        "transformer_config": {"output_hidden_states": True},
    }})
    nlp.initialize()
    doc = nlp.get_pipe("transformer")(nlp.make_doc("drought in cmip6 and floods in europe " * 8))
    layers = pooled_layer_vectors(doc._.trf_data, len(doc))
    assert layers.shape == (3, len(doc), 32)
    assert numpy.allclose(layers[-1], pooled_token_vectors(doc._.trf_data, len(doc)), atol=1e-6)
    assert not numpy.allclose(layers[0], layers[-1])


def test_combine_layers_means_and_concatenations():
    layers = [numpy.full((2, 3), float(k), dtype="float16") for k in range(7)]
    assert numpy.array_equal(combine_layers(layers, "6"), layers[6].astype("float32"))
    assert numpy.allclose(combine_layers(layers, "mean3-6"), 4.5)
    both = combine_layers(layers, "6+mean1-3")
    assert both.shape == (2, 6) and both.dtype == numpy.float32
    assert numpy.allclose(both[:, :3], 6.0) and numpy.allclose(both[:, 3:], 2.0)
    for bad in ("mean4-2", "top", "mean3", "6+", "7"):
        with pytest.raises((ValueError, IndexError)):
            combine_layers(layers, bad)
