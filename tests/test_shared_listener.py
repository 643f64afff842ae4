"""spacy_scicls.SharedTransformerListener.v1: the stock listener's output, pooled once per batch."""
import numpy
import pytest
import spacy

import spacy_scicls  # noqa: F401
from spacy_scicls.assembly import _share_listener_config
from spacy_scicls.ml import shared_listener
from spacy_scicls.ml.shared_listener import LISTENER_ARCHITECTURE, STOCK_LISTENER_ARCHITECTURE

from conftest import build_full_pipeline

TEXTS = [
    "Deep learning for drought.\n\nAbstract\nWe study drought in Europe with CMIP6 models.",
    "A trial of knee surgery.\n\nMethods\nWe randomise 320 adults.",
    "",
]


def count_pooling_calls(monkeypatch):
    """Record ``(docs, is_train)`` of every pooling: at prediction by the
    chunked pooling, in training by the stock one."""
    calls = []
    original_stock = shared_listener.trfs2arrays_forward
    original_chunked = shared_listener.pool_in_chunks

    def counting_stock(model, trf_datas, is_train):
        if is_train:
            calls.append((len(trf_datas), is_train))
        return original_stock(model, trf_datas, is_train)

    def counting_chunked(model, trf_datas, chunk_tokens):
        calls.append((len(trf_datas), False))
        return original_chunked(model, trf_datas, chunk_tokens)

    monkeypatch.setattr(shared_listener, "trfs2arrays_forward", counting_stock)
    monkeypatch.setattr(shared_listener, "pool_in_chunks", counting_chunked)
    return calls


@pytest.fixture(scope="module")
def pipelines(trained, tmp_path_factory):
    """The trained tiny full pipeline, and the same with every listener made shared."""
    stock, _, _ = trained
    folder = tmp_path_factory.mktemp("stock")
    stock.to_disk(folder)
    return spacy.load(folder), load_shared(folder)


def load_shared(folder):
    """The pipeline saved at ``folder`` with every stock listener made shared."""
    config = spacy.util.load_config(folder / "config.cfg")
    changed = sum(_share_listener_config(config["components"][name]) for name in config["nlp"]["pipeline"])
    assert changed == len(config["nlp"]["pipeline"]) - 1
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    return nlp.from_disk(folder)


def test_shared_listener_gives_the_stock_output(pipelines):
    stock, shared = pipelines
    assert STOCK_LISTENER_ARCHITECTURE in stock.config.to_str()
    assert LISTENER_ARCHITECTURE in shared.config.to_str() and STOCK_LISTENER_ARCHITECTURE not in shared.config.to_str()
    for a, b in zip(stock.pipe(TEXTS), shared.pipe(TEXTS)):
        assert a.cats.keys() == b.cats.keys()
        assert numpy.allclose(list(a.cats.values()), list(b.cats.values()), atol=1e-6)
        assert [(s.start, s.end, s.label_) for s in a.spans["sections"]] == [
            (s.start, s.end, s.label_) for s in b.spans["sections"]
        ]
        assert [(e.start, e.end, e.label_) for e in a.ents] == [(e.start, e.end, e.label_) for e in b.ents]


def test_one_pooling_per_batch_for_all_heads(pipelines, monkeypatch):
    _, shared = pipelines
    calls = count_pooling_calls(monkeypatch)
    list(shared.pipe(TEXTS[:2], batch_size=2))
    assert calls == [(2, False)], "the heads after the first should reuse the pooled vectors"
    list(shared.pipe(TEXTS[:2], batch_size=1))
    assert calls[1:] == [(1, False), (1, False)], "a new batch must be pooled anew"


def test_heads_listening_to_the_same_batch_get_the_same_arrays(pipelines):
    _, shared = pipelines
    docs = list(shared.get_pipe("transformer").pipe([shared.make_doc(t) for t in TEXTS[:2]]))
    first = shared.get_pipe("erc").model.get_ref("tok2vec").predict(docs)
    second = shared.get_pipe("arxiv").model.get_ref("tok2vec").predict(docs)
    assert all(x is y for x, y in zip(first, second))
    # Other docs (even with the same text) are other transformer outputs: pooled anew.
    again = list(shared.get_pipe("transformer").pipe([shared.make_doc(t) for t in TEXTS[:2]]))
    third = shared.get_pipe("erc").model.get_ref("tok2vec").predict(again)
    assert not any(x is y for x, y in zip(first, third))
    assert all(numpy.allclose(x, y) for x, y in zip(first, third))


def test_training_does_not_use_the_memo(trained, tmp_path, monkeypatch):
    from spacy.training import Example

    _, examples, _ = trained
    trained[0].to_disk(tmp_path / "p")
    shared = load_shared(tmp_path / "p")
    calls = count_pooling_calls(monkeypatch)
    examples = [Example(shared.make_doc(eg.reference.text), eg.reference) for eg in examples]
    shared.update(examples, exclude=["transformer", "sections", "entities"], annotates=["transformer"])
    assert calls and all(is_train for _, is_train in calls)
    assert len(calls) == 4  # each category head pools its own vectors to backpropagate through them


def test_build_full_pipeline_with_shared_listeners_trains(tiny_bert):
    nlp = build_full_pipeline(tiny_bert)
    config = nlp.config.copy()
    for name in nlp.pipe_names:
        _share_listener_config(config["components"][name])
    shared = spacy.util.load_model_from_config(config, auto_fill=True)
    assert sorted(shared.get_pipe("transformer").listening_components) == sorted(shared.pipe_names[1:])


@pytest.mark.parametrize("chunk_tokens", [1, 3, 7, 10_000])
def test_pooling_in_chunks_gives_the_stock_pooling_bit_for_bit(pipelines, chunk_tokens):
    """Each token pooled from the same wordpiece rows, chunk or not; empty docs included."""
    _, shared = pipelines
    long_text = " ".join([TEXTS[0]] * 8)
    docs = list(shared.get_pipe("transformer").pipe([shared.make_doc(t) for t in [long_text] + TEXTS]))
    assert len(docs[0]) > 3 * 7 and len(docs[-1]) == 0
    listener = shared.get_pipe("erc").model.get_ref("tok2vec")
    pooling_layer = listener.layers[-1]
    trf_datas = [doc._.trf_data for doc in docs]
    stock, _ = shared_listener.trfs2arrays_forward(pooling_layer, trf_datas, False)
    chunked = shared_listener.pool_in_chunks(pooling_layer, trf_datas, chunk_tokens)
    assert len(chunked) == len(stock)
    for a, b in zip(stock, chunked):
        assert a.shape == b.shape and a.dtype == b.dtype
        assert a.tobytes() == b.tobytes()
    assert [len(x) for x in chunked[:-1]] == [len(doc) for doc in docs[:-1]]


def test_a_pooling_that_is_not_row_wise_gets_the_stock_path(pipelines, monkeypatch):
    _, shared = pipelines
    docs = list(shared.get_pipe("transformer").pipe([shared.make_doc(t) for t in TEXTS[:2]]))
    pooling_layer = shared.get_pipe("erc").model.get_ref("tok2vec").layers[-1]
    monkeypatch.setattr(pooling_layer.layers[0], "name", "my_attention_pooling")
    calls = []
    original = shared_listener.trfs2arrays_forward

    def stock(model, trf_datas, is_train):
        calls.append(len(trf_datas))
        return original(model, trf_datas, is_train)

    monkeypatch.setattr(shared_listener, "trfs2arrays_forward", stock)
    shared_listener.pool_in_chunks(pooling_layer, [doc._.trf_data for doc in docs], 1)
    assert calls == [2]
