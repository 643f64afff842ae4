"""Files from elsewhere are read as data, never as code or as places to write: seed-model bytes,
an encoder whose config or vocabulary changed, pickled weights, training caches."""
import io
import json
import pickle
import shutil
from pathlib import Path

import numpy
import pytest
import spacy
import srsly
from spacy.training import Example

from conftest import build_full_pipeline
from spacy_scicls.adapters._base import SeedModelPipe
from spacy_scicls.pipeline import frozen_transformer
from spacy_scicls.training.frozen import TokenVectorCache
from tiny_data import gold_docs

FROZEN = {"components.transformer.factory": "scicls_frozen_transformer"}


@pytest.mark.parametrize("name", ["../../escaped.txt", "model/../../escaped.txt", "ABSOLUTE"])
def test_seed_model_from_bytes_writes_nothing_outside_its_folder(tmp_path, name):
    target = tmp_path / "escaped.txt"
    if name == "ABSOLUTE":
        name = str(target)
    data = srsly.msgpack_dumps({"cfg": b"{}", name: b"written from bytes"})
    pipe = SeedModelPipe("seed", "some/model")
    with pytest.raises(ValueError, match="refused file name"):
        pipe.from_bytes(data)
    assert not target.exists()
    assert not (Path("/tmp") / "escaped.txt").exists() or (Path("/tmp") / "escaped.txt").read_bytes() != b"written from bytes"


@pytest.fixture(scope="module")
def frozen_saved(tiny_bert, tmp_path_factory):
    """A pipeline on a frozen copy of the tiny encoder, saved without its weights."""
    folder = tmp_path_factory.mktemp("frozen")
    encoder = shutil.copytree(tiny_bert, folder / "encoder")
    nlp = build_full_pipeline(encoder, **FROZEN)
    nlp.initialize(lambda: [Example(nlp.make_doc(d.text), d) for d in gold_docs(nlp)])
    nlp.to_disk(folder / "pipeline")
    return folder / "pipeline", encoder


def test_the_encoder_fingerprint_covers_config_and_tokenizer(frozen_saved):
    pipeline, encoder = frozen_saved
    saved = srsly.read_json(pipeline / "transformer" / frozen_transformer.ENCODER_FILE)
    assert saved["format"] == "spacy_scicls.frozen_encoder.v2"
    assert {"sha256", "n_values", "config_sha256", "tokenizer_sha256"} <= set(saved)
    spacy.load(pipeline)  # the same encoder loads

    original = (encoder / "config.json").read_bytes()
    config = json.loads(original)
    try:
        (encoder / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}), encoding="utf8")
        with pytest.raises(ValueError, match=r"other config.json \(its architecture\)"):
            spacy.load(pipeline)
        # Where and by which version config.json was written does not matter, nor its layout.
        (encoder / "config.json").write_text(json.dumps({**config, "transformers_version": "9.9.9"}), encoding="utf8")
        spacy.load(pipeline)
    finally:
        (encoder / "config.json").write_bytes(original)

    vocab = (encoder / "vocab.txt").read_text(encoding="utf8")
    lines = vocab.splitlines()
    i, j = lines.index("drought"), lines.index("europe")
    lines[i], lines[j] = lines[j], lines[i]  # same size, other ids: the weights load, the vectors differ
    try:
        (encoder / "vocab.txt").write_text("\n".join(lines) + "\n", encoding="utf8")
        with pytest.raises(ValueError, match=r"other tokenizer files \(its vocabulary\)"):
            spacy.load(pipeline)
    finally:
        (encoder / "vocab.txt").write_text(vocab, encoding="utf8")


def test_a_v1_encoder_file_still_loads(frozen_saved, tmp_path):
    pipeline, _ = frozen_saved
    copy = shutil.copytree(pipeline, tmp_path / "v1")
    encoder_file = copy / "transformer" / frozen_transformer.ENCODER_FILE
    saved = srsly.read_json(encoder_file)
    srsly.write_json(encoder_file, {"format": frozen_transformer.FORMAT_V1, "sha256": saved["sha256"], "n_values": saved["n_values"]})
    spacy.load(copy)


class _Payload:
    """A pickle that runs code when it is loaded: it writes a file."""

    def __init__(self, target: Path):
        self.target = str(target)

    def __reduce__(self):
        return (Path.write_text, (Path(self.target), "unpickled"))


def test_stored_weights_are_never_unpickled_as_code(frozen_saved, tiny_bert, tmp_path, monkeypatch):
    import torch

    pipeline, encoder = frozen_saved
    stock = build_full_pipeline(encoder)
    stock.from_bytes(spacy.load(pipeline).to_bytes())
    stock.to_disk(tmp_path / "stock")
    config = spacy.util.load_config(tmp_path / "stock" / "config.cfg", overrides=FROZEN)
    spacy.util.load_model_from_config(config, auto_fill=True).from_disk(tmp_path / "stock")  # loads as it is

    # A torch older than 2.6 would unpickle anything: refused.
    monkeypatch.setattr(frozen_transformer.torch, "__version__", "2.5.1")
    with pytest.raises(ValueError, match=r"install torch>=2.6"):
        spacy.util.load_model_from_config(config, auto_fill=True).from_disk(tmp_path / "stock")
    monkeypatch.undo()

    # Weights that are a pickle of code: not run.
    model_file = tmp_path / "stock" / "transformer" / "model"
    msg = srsly.msgpack_loads(model_file.read_bytes())
    marker = tmp_path / "ran.txt"
    buffer = io.BytesIO()
    torch.save(_Payload(marker), buffer, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    planted = []

    def plant(value):
        # The encoder's weights are the "state" of the transformer's shim, inside the thinc model's bytes.
        if isinstance(value, list):
            return [plant(v) for v in value]
        if isinstance(value, dict):
            return {k: plant(v) for k, v in value.items()}
        if isinstance(value, bytes):
            try:
                inner = srsly.msgpack_loads(value)
            except Exception:  # noqa: BLE001 - not msgpack
                return value
            if isinstance(inner, dict) and "state" in inner:
                planted.append(True)
                return srsly.msgpack_dumps({**inner, "state": buffer.getvalue()})
        return value

    model_file.write_bytes(srsly.msgpack_dumps(plant(msg)))
    assert planted
    with pytest.raises(pickle.UnpicklingError):
        spacy.util.load_model_from_config(config, auto_fill=True).from_disk(tmp_path / "stock")
    assert not marker.exists()


def test_training_caches_load_without_pickle(tmp_path):
    cache = TokenVectorCache(
        numpy.ones((5, 4), dtype="float16"), numpy.array([0, 2, 5]), numpy.array([1, 1]), ["W1", "paper-2"]
    )
    cache.save(tmp_path / "cache.npz")
    data = numpy.load(tmp_path / "cache.npz", allow_pickle=False)
    assert [str(i) for i in data["ids"]] == ["W1", "paper-2"]
    loaded = TokenVectorCache.load(tmp_path / "cache.npz")
    assert loaded.ids == ["W1", "paper-2"] and loaded.get("paper-2")[0].shape == (3, 4)
    # A cache whose ids need pickle (an older version's, or a planted one) is refused, not unpickled.
    numpy.savez(tmp_path / "old.npz", vectors=cache.vectors, offsets=cache.offsets, title_ends=cache.title_ends,
                ids=numpy.asarray(["W1", "paper-2"], dtype=object))
    with pytest.raises(ValueError, match="without pickle"):
        TokenVectorCache.load(tmp_path / "old.npz")
