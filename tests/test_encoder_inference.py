"""Prediction in length-sorted passes gives what one padded pass gives, faster."""
import numpy
import pytest
import torch

from spacy_scicls.encoder_inference import ATTR, length_sorted_passes, use_sorted_prediction
from tiny_data import PAPERS

TEXTS = [paper[0] for paper in PAPERS] + ["", "Short.", PAPERS[0][0] * 3]


def aligned_vectors(doc):
    data = doc._.trf_data
    hidden = data.tensors[0]
    return hidden.reshape(-1, hidden.shape[-1])[data.align.data.ravel()]


def annotate(nlp, max_wordpieces):
    model = nlp.get_pipe("transformer").model
    before = model.attrs[ATTR]
    calls = []
    handle = model.transformer.register_forward_hook(lambda module, args, kwargs_or_out: calls.append(1))
    try:
        use_sorted_prediction(model, max_wordpieces)
        docs = list(nlp.pipe(TEXTS, batch_size=8))
    finally:
        handle.remove()
        use_sorted_prediction(model, before)
    return docs, len(calls)


def test_passes_cover_every_window_once_shortest_first_within_the_limit():
    lengths = [30, 5, 12, 30, 7, 0, 64, 11]
    passes = length_sorted_passes(lengths, max_wordpieces=32)
    flat = [i for p in passes for i in p]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths)
    for p in passes:
        assert len(p) == 1 or len(p) * max(lengths[i] for i in p) <= 32
    assert [64] in [[lengths[i] for i in p] for p in passes]  # a window longer than the limit runs alone
    assert length_sorted_passes([], 32) == []


def test_sorted_passes_give_the_single_pass_annotations(trained):
    nlp, _, _ = trained
    single, single_calls = annotate(nlp, 0)
    sorted_docs, sorted_calls = annotate(nlp, 64)
    assert single_calls == 1  # all windows of the batch in one pass
    assert sorted_calls > 3  # several small passes
    for a, b in zip(single, sorted_docs):
        if len(a):
            numpy.testing.assert_allclose(aligned_vectors(a), aligned_vectors(b), atol=1e-5)
        assert a.cats.keys() == b.cats.keys()
        for key in a.cats:
            assert a.cats[key] == pytest.approx(b.cats[key], abs=1e-4)
        assert [(s.start, s.end, s.label_) for s in a.spans["sections"]] == [
            (s.start, s.end, s.label_) for s in b.spans["sections"]
        ]
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]


def test_prediction_output_is_an_ordinary_tensor(trained):
    nlp, _, _ = trained
    model = nlp.get_pipe("transformer").model
    docs = [nlp.make_doc(text) for text in TEXTS[:2]]
    output = model.predict(docs)
    hidden = output.model_output.last_hidden_state
    assert isinstance(hidden, torch.Tensor) and not hidden.is_inference()
    assert hidden.shape[:2] == tuple(output.wordpieces.input_ids.shape)


def test_training_still_backpropagates(trained):
    nlp, examples, _ = trained
    model = nlp.get_pipe("transformer").model
    assert model.attrs[ATTR] > 0
    losses = nlp.update(examples, sgd=False)
    assert all(numpy.isfinite(v) for v in losses.values())


def test_negative_limit_is_an_error(trained):
    nlp, _, _ = trained
    with pytest.raises(ValueError, match="max_wordpieces"):
        use_sorted_prediction(nlp.get_pipe("transformer").model, -1)


def test_free_memory_goes_back_after_every_pass(trained, monkeypatch):
    from spacy_scicls import encoder_inference

    nlp, _, _ = trained
    real = encoder_inference.return_free_memory
    trims = []
    monkeypatch.setattr(encoder_inference, "return_free_memory", lambda: trims.append(1))
    _, calls = annotate(nlp, 64)
    assert calls > 3 and len(trims) == calls
    real()  # glibc's malloc_trim, or nothing where the C library has none
