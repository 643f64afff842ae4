"""The baseline's sentence embeddings: masked mean of one encoder pass, L2-normalised."""
import json

import numpy
import pytest
import torch

from spacy_scicls.training.sentence_embeddings import model_max_length, sentence_embeddings

TEXTS = ["drought in europe", "neural language models for science and cancer trial patients", ""]


def _reference(path, text, max_length):
    """The embedding of one text alone: no padding, plain mean over its wordpieces."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModel.from_pretrained(str(path)).eval()
    enc = tokenizer([text], truncation=True, max_length=max_length, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc).last_hidden_state[0]
    row = hidden.mean(dim=0).numpy()
    return row / numpy.linalg.norm(row)


def test_rows_are_unit_length_and_ignore_padding(tiny_bert):
    rows = sentence_embeddings(TEXTS, tiny_bert, batch_size=3)
    assert rows.shape == (3, 32)
    assert numpy.allclose(numpy.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    # Batched with a longer text (so padded), a text gets its unpadded embedding.
    for text, row in zip(TEXTS, rows):
        assert numpy.allclose(row, _reference(tiny_bert, text, 256), atol=1e-4)
    assert not numpy.allclose(rows[0], rows[1], atol=1e-3)


def test_long_texts_are_cut_to_max_length(tiny_bert):
    long_text = " ".join(["drought heat wave flood"] * 200)
    cut = sentence_embeddings([long_text], tiny_bert, max_length=16)[0]
    assert numpy.allclose(cut, _reference(tiny_bert, long_text, 16), atol=1e-4)
    assert not numpy.allclose(cut, _reference(tiny_bert, long_text, 256), atol=1e-3)
    with pytest.raises(ValueError, match="max_length"):
        sentence_embeddings(["x"], tiny_bert, max_length=1)


def test_max_length_from_sentence_transformers_config(tmp_path):
    assert model_max_length(tmp_path) == 256
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    assert model_max_length(tmp_path) == 128
