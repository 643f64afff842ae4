"""Long documents at prediction: the chunked paths give the annotations of the unchunked ones.

The shared listener pools the transformer's output ``POOL_CHUNK_TOKENS`` tokens
at a time and the entity head scores a long doc ``PREDICT_CHUNK_TOKENS``
tokens at a time (with the context its window layers read), and a batch in
groups of docs of at most that many tokens. Here both are made tiny so that a
doc of a few hundred tokens is cut into many chunks, and compared with the
same pipeline made to take every doc whole. Then ``scicls annotate``'s release
of the transformer's output once it is pooled.
"""
import numpy
import pytest
import spacy

from spacy_scicls.assembly import _share_listener_config
from spacy_scicls.ml import shared_listener, span_scorer
from tiny_data import PAPERS

WHOLE = 10**9


@pytest.fixture(scope="module")
def shared(trained, tmp_path_factory):
    """The trained tiny full pipeline with every listener shared, as in the default pipeline."""
    folder = tmp_path_factory.mktemp("long_docs")
    trained[0].to_disk(folder)
    config = spacy.util.load_config(folder / "config.cfg")
    for name in config["nlp"]["pipeline"]:
        _share_listener_config(config["components"][name])
    return spacy.util.load_model_from_config(config, auto_fill=True).from_disk(folder)


@pytest.fixture(scope="module")
def long_text():
    # The tiny papers one after the other, several times over: sections, entities and line breaks throughout.
    return "\n\n".join(text for text, *_ in PAPERS * 6)


def annotate(nlp, texts, monkeypatch, pool_chunk: int, predict_chunk: int):
    monkeypatch.setattr(shared_listener, "POOL_CHUNK_TOKENS", pool_chunk)
    monkeypatch.setattr(span_scorer, "PREDICT_CHUNK_TOKENS", predict_chunk)
    return list(nlp.pipe(texts, batch_size=len(texts)))


def entity_head_output(nlp, doc, monkeypatch, predict_chunk: int):
    """The entity head's probabilities of every candidate of ``doc`` (a doc with the transformer's output)."""
    monkeypatch.setattr(span_scorer, "PREDICT_CHUNK_TOKENS", predict_chunk)
    per_doc, probs = nlp.get_pipe("entities").predict([doc])
    return per_doc[0], numpy.asarray(probs)


def test_the_entity_head_scores_a_long_doc_in_chunks_as_whole(shared, long_text, monkeypatch):
    doc = shared.get_pipe("transformer")(shared.make_doc(long_text))
    context = shared.get_pipe("entities").model.layers[1].attrs["pad"]
    assert context == 4 and len(doc) > 300  # context_depth 4, window 1
    candidates, whole = entity_head_output(shared, doc, monkeypatch, WHOLE)
    assert len(candidates) > 1000 and (whole[:, 1:-1].sum(axis=1) > 0).sum() > 100  # many candidates kept and scored
    for chunk in (7, 50, 128):  # shorter and longer than the context; chunk edges inside candidates
        chunk_candidates, chunked = entity_head_output(shared, doc, monkeypatch, chunk)
        assert numpy.array_equal(candidates, chunk_candidates)
        assert chunked.shape == whole.shape and chunked.dtype == whole.dtype
        # Same rows, same pruning; the values agree to float32 rounding (the matrix
        # products' blocking depends on how many rows they get).
        assert numpy.array_equal(chunked[:, 1:-1].sum(axis=1) > 0, whole[:, 1:-1].sum(axis=1) > 0)
        assert numpy.abs(chunked - whole).max() < 1e-5


def test_without_context_the_chunks_would_differ(shared, long_text, monkeypatch):
    """The check above can fail: chunks cut without the stack's context give other scores."""
    doc = shared.get_pipe("transformer")(shared.make_doc(long_text))
    projection = shared.get_pipe("entities").model.layers[1]
    _, whole = entity_head_output(shared, doc, monkeypatch, WHOLE)
    monkeypatch.setattr(span_scorer, "_stack_context", lambda layer: 0)
    _, chunked = entity_head_output(shared, doc, monkeypatch, 7)
    assert projection.attrs["pad"] == 4
    assert numpy.abs(chunked - whole).max() > 1e-3


def test_a_long_doc_gets_the_same_annotations_in_chunks(shared, long_text, monkeypatch):
    texts = [long_text, PAPERS[0][0], ""]
    whole = annotate(shared, texts, monkeypatch, WHOLE, WHOLE)
    chunked = annotate(shared, texts, monkeypatch, 5, 13)
    assert len(whole[0].spans["sections"]) >= 30
    for a, b in zip(whole, chunked):
        assert [(s.start, s.end, s.label_, s._.heading) for s in a.spans["sections"]] == [
            (s.start, s.end, s.label_, s._.heading) for s in b.spans["sections"]
        ]
        # sections and categories read the pooled vectors only: bit for bit the same
        assert [s._.section_score for s in a.spans["sections"]] == [s._.section_score for s in b.spans["sections"]]
        assert a.cats == b.cats
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]
        assert numpy.allclose([e._.entity_score for e in a.ents], [e._.entity_score for e in b.ents], atol=1e-5)


def test_a_batch_of_short_docs_takes_the_one_piece_path(shared, monkeypatch):
    """Docs that fit in a chunk go through the stack together, as before chunking existed."""
    calls = []
    original = span_scorer.fast_predict.predict

    def counting(layer, X):
        calls.append(len(X) if isinstance(X, list) else None)
        return original(layer, X)

    monkeypatch.setattr(span_scorer.fast_predict, "predict", counting)
    annotate(shared, [text for text, *_ in PAPERS], monkeypatch, WHOLE, 10_000)
    assert calls[0] == len(PAPERS)


def stack_calls(monkeypatch, model):
    """Record the number of token rows of every input of the entity head's token-level stack."""
    projection = model.layers[1]
    rows = []
    original = span_scorer.fast_predict.predict

    def recording(layer, X):
        if layer is projection:
            rows.append(sum(x.shape[0] for x in X))
        return original(layer, X)

    monkeypatch.setattr(span_scorer.fast_predict, "predict", recording)
    return rows


def test_a_long_doc_never_goes_through_the_stack_whole(shared, long_text, monkeypatch):
    """What bounds the head's memory: no input of the stack is longer than a chunk with its
    overhang (the widest candidate) and context, and the scores are those of the whole doc."""
    doc = shared.get_pipe("transformer")(shared.make_doc(long_text))
    model = shared.get_pipe("entities").model
    _, whole = entity_head_output(shared, doc, monkeypatch, WHOLE)
    rows = stack_calls(monkeypatch, model)
    scored_rows = []  # the token rows the candidates are scored from
    logits = span_scorer._logits

    def recording_logits(model, parts, starts, ends, scorer):
        scored_rows.append(parts[0].shape[0])
        return logits(model, parts, starts, ends, scorer)

    monkeypatch.setattr(span_scorer, "_logits", recording_logits)
    _, chunked = entity_head_output(shared, doc, monkeypatch, 50)
    overhang = model.attrs["max_width"] - 1
    reach = overhang + 2 * model.layers[1].attrs["pad"]
    assert len(rows) >= len(doc) // 50 and max(rows) <= 50 + reach
    assert len(scored_rows) >= len(doc) // 50 and max(scored_rows) <= 50 + overhang
    assert numpy.array_equal(chunked[:, 1:-1].sum(axis=1) > 0, whole[:, 1:-1].sum(axis=1) > 0)
    assert numpy.abs(chunked - whole).max() < 1e-5


def test_a_batch_is_scored_in_groups_of_docs(shared, monkeypatch):
    """A batch longer than a chunk, of docs each shorter than one, goes through the stack in
    groups of whole docs, with the scores of the batch in one piece."""
    docs = list(shared.get_pipe("transformer").pipe([shared.make_doc(text) for text, *_ in PAPERS * 2]))
    model = shared.get_pipe("entities").model
    chunk = max(len(doc) for doc in docs) + 1
    assert sum(len(doc) for doc in docs) > 2 * chunk
    monkeypatch.setattr(span_scorer, "PREDICT_CHUNK_TOKENS", WHOLE)
    per_doc, whole = shared.get_pipe("entities").predict(docs)
    rows = stack_calls(monkeypatch, model)
    monkeypatch.setattr(span_scorer, "PREDICT_CHUNK_TOKENS", chunk)
    per_doc_grouped, grouped = shared.get_pipe("entities").predict(docs)
    assert len(rows) >= 3 and max(rows) <= chunk
    assert all(numpy.array_equal(a, b) for a, b in zip(per_doc, per_doc_grouped))
    assert numpy.array_equal(grouped[:, 1:-1].sum(axis=1) > 0, whole[:, 1:-1].sum(axis=1) > 0)
    assert numpy.abs(grouped - whole).max() < 1e-5


def test_a_long_doc_with_its_candidates_in_any_order(shared, long_text, monkeypatch):
    doc = shared.get_pipe("transformer")(shared.make_doc(long_text))
    model = shared.get_pipe("entities").model
    candidates, in_order = entity_head_output(shared, doc, monkeypatch, 50)
    shuffled = numpy.random.default_rng(0).permutation(len(candidates))
    ragged = span_scorer.Ragged(model.ops.asarray2i(candidates[shuffled]), model.ops.asarray1i([len(candidates)]))
    probs = numpy.asarray(model.predict(([doc], ragged)))
    assert numpy.abs(probs - in_order[shuffled]).max() < 1e-6


# --- the transformer's output let go once pooled (scicls annotate) ---------------------------


def annotations(doc):
    return (
        [(s.start, s.end, s.label_, s._.heading, s._.section_score) for s in doc.spans["sections"]],
        doc.cats,
        [(e.start, e.end, e.label_, e._.entity_score) for e in doc.ents],
    )


def test_the_transformer_output_is_released_only_where_every_listener_shares_one_pooling(trained, shared):
    assert shared_listener.release_allowed(shared)
    assert not shared_listener.release_allowed(trained[0])  # the stock listeners would read it again
    with shared_listener.releasing_transformer_output(trained[0]) as released:
        assert not released
    with shared_listener.releasing_transformer_output(shared, enabled=False) as released:
        assert not released


def test_released_output_same_annotations(shared, long_text):
    texts = [long_text, PAPERS[0][0], "", PAPERS[1][0]]
    kept = list(shared.pipe(texts, batch_size=2))
    with shared_listener.releasing_transformer_output(shared) as released:
        assert released
        let_go = list(shared.pipe(texts, batch_size=2))
    assert [annotations(a) for a in kept] == [annotations(b) for b in let_go]
    for a, b in zip(kept, let_go):
        if len(a):
            assert a._.trf_data.model_output.last_hidden_state.shape[0] > 0
            assert b._.trf_data.model_output.last_hidden_state.shape[0] == 0
    # outside the block nothing is released
    assert shared(texts[1])._.trf_data.model_output.last_hidden_state.shape[0] > 0


def test_a_head_that_would_pool_a_released_output_again_fails_clearly(shared):
    docs = [shared.make_doc(text) for text, *_ in PAPERS[:2]]
    with shared_listener.releasing_transformer_output(shared):
        docs = list(shared.get_pipe("transformer").pipe(docs))
        shared.get_pipe("sections").predict(docs)  # pools, then lets the output go
        shared_listener._LAST_BATCH.clear()  # as if a head pooled otherwise
        with pytest.raises(RuntimeError, match="released"):
            shared.get_pipe("entities").predict(docs)


def test_annotate_releases_the_output_and_writes_the_same_records(shared, tmp_path, monkeypatch):
    from spacy.tokens import DocBin

    from spacy_scicls.cli import run_annotate

    shared.to_disk(tmp_path / "pipeline")
    inputs = tmp_path / "papers"
    inputs.mkdir()
    for i, (text, *_) in enumerate(PAPERS):
        (inputs / f"p{i}.txt").write_text(text, encoding="utf8")
    options = dict(model=str(tmp_path / "pipeline"), batch_size=2, quiet=True)
    seen = []
    release = shared_listener.releasing_transformer_output

    def recording(nlp, enabled=True):
        seen.append(enabled and shared_listener.release_allowed(nlp))
        return release(nlp, enabled)

    monkeypatch.setattr(shared_listener, "releasing_transformer_output", recording)
    assert run_annotate([str(inputs)], tmp_path / "released.jsonl", **options) == 0
    monkeypatch.setattr(shared_listener, "release_allowed", lambda nlp: False)
    assert run_annotate([str(inputs)], tmp_path / "kept.jsonl", **options) == 0
    assert seen == [True, False]
    released = (tmp_path / "released.jsonl").read_text(encoding="utf8")
    assert released and released == (tmp_path / "kept.jsonl").read_text(encoding="utf8")
    # Asked to keep the transformer's output, a .spacy output has all of it.
    monkeypatch.undo()
    assert run_annotate([str(inputs)], tmp_path / "out.spacy", keep_trf_data=True, **options) == 0
    docs = list(DocBin().from_disk(tmp_path / "out.spacy").get_docs(shared.vocab))
    assert all(doc._.trf_data.model_output.last_hidden_state.shape[0] > 0 for doc in docs)
