"""scripts/layer_features.py: layer mixes are read as documented and averaged token by token."""
import sys

import numpy
import pytest

from conftest import REPO


@pytest.fixture
def layer_features():
    sys.path.insert(0, str(REPO / "scripts"))
    import layer_features

    return layer_features


def test_mixes_are_parsed(layer_features):
    assert layer_features.parse_mix("6") == ("mean", [6])
    assert layer_features.parse_mix("4-6") == ("mean", [4, 5, 6])
    assert layer_features.parse_mix("cat:5+6") == ("cat", [5, 6])


def test_layer_mean_is_the_token_wise_mean(layer_features, tmp_path, monkeypatch):
    from spacy_scicls.training.frozen import TokenVectorCache

    offsets = numpy.asarray([0, 2, 5], dtype="int64")
    title_ends = numpy.asarray([1, 2], dtype="int64")
    rng = numpy.random.RandomState(0)
    layers = {layer: rng.normal(size=(5, 4)).astype("float16") for layer in (5, 6)}
    for layer, vectors in layers.items():
        TokenVectorCache(vectors, offsets, title_ends, ["a", "b"]).save(tmp_path / f"L{layer}.npz")
    monkeypatch.setattr(layer_features, "layer_cache_path", lambda seed, tokens, layer: tmp_path / f"L{layer}.npz")

    mean = layer_features.layer_mean_cache([5, 6], seed=0, max_tokens=256)
    expected = (layers[5].astype("float32") + layers[6].astype("float32")) / 2
    numpy.testing.assert_allclose(mean.get("b")[0].astype("float32"), expected[2:5], atol=1e-2)
    assert mean.get("b")[1] == 2
    last = layer_features.layer_mean_cache([6], seed=0, max_tokens=256)
    numpy.testing.assert_array_equal(last.vectors, layers[6])

    TokenVectorCache(layers[5][:4], offsets[:2], title_ends[:1], ["a"]).save(tmp_path / "L5.npz")
    with pytest.raises(ValueError):
        layer_features.layer_mean_cache([5, 6], seed=0, max_tokens=256)
