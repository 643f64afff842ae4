"""A transformer listener whose token vectors are pooled once per batch for all the heads.

spacy-transformers' ``TransformerListener.v1`` is the listener layer followed
by ``trfs2arrays``, which aligns the wordpiece vectors of each doc to its
tokens and pools them. Every head has its own listener, so a pipeline with six
heads aligns and pools the same vectors six times: on a full paper that is
about 50 ms per head on one CPU core, 2% of the encoder's time for the five
repeats.

``spacy_scicls.SharedTransformerListener.v1`` takes the same settings and, at
prediction, keeps the pooled vectors of the batch it last saw: the next head
that asks for the same docs' transformer output with the same pooling gets the
very same arrays. The memo holds one batch and is keyed by the identity of the
docs' ``TransformerData`` objects (checked through weak references, so a new
batch never takes an old entry) and the pooling layer; it is dropped as soon as
those objects are. In training (``is_train``) it does nothing, so gradients
and the heads' training are exactly those of the stock listener. The heads
must not modify the arrays they are given in place (none of them does; the
assembly tests compare every head with its stand-alone pipeline).

At prediction the pooling also runs over ``POOL_CHUNK_TOKENS`` tokens at a
time. The stock ``trfs2arrays`` first gathers every wordpiece vector that a
token is aligned with (a token sits in one to two windows and spans one or
more wordpieces) into one array for the whole doc, then pools it: on a
300-page paper (117k tokens) that array is about twice the size of the
pooled vectors, held at once. Chunk by chunk, each token is pooled from the
very same rows by the same pooling layer, so the output is the same, bit for
bit; only the largest array in flight is smaller.

Within ``releasing_transformer_output(nlp)`` (``scicls annotate`` uses it
when its output leaves the transformer's output out), once the first head
has pooled a batch, the transformer's output arrays in the batch's
``doc._.trf_data`` (some 3.3 KB a token: 389 MB for a 300-page paper) are
replaced by empty ones: every later head gets the pooled vectors from the
memo, so nothing reads them again. It does so only for a pipeline whose every
listener is this one with one pooling; outside the block ``doc._.trf_data``
is never touched.
"""
import contextlib
import weakref
from typing import Iterator, List, Optional, Tuple

import numpy
from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.data_classes import TransformerData
from spacy_transformers.layers import TransformerListener
from spacy_transformers.layers.trfs2arrays import forward as trfs2arrays_forward
from thinc.api import Model, chain
from thinc.types import Floats2d, Ragged

LISTENER_ARCHITECTURE = "spacy_scicls.SharedTransformerListener.v1"
STOCK_LISTENER_ARCHITECTURE = "spacy-transformers.TransformerListener.v1"
#: Tokens pooled at a time at prediction (see the module docstring).
POOL_CHUNK_TOKENS = 4096
#: Poolings that reduce each token's wordpiece rows on their own (thinc's
#: reduce layers), so that pooling a chunk of tokens gives those tokens' rows
#: of pooling the whole doc. Any other pooling layer gets the stock path.
ROW_WISE_POOLINGS = ("reduce_mean", "reduce_sum", "reduce_max", "reduce_first", "reduce_last")


class _LastBatch:
    """The pooled vectors of one batch: what the previous head computed."""

    def __init__(self) -> None:
        self.key: Optional[Tuple[str, Tuple[int, ...]]] = None
        self.refs: List[weakref.ref] = []
        self.outputs: Optional[List[Floats2d]] = None

    def get(self, key, trf_datas) -> Optional[List[Floats2d]]:
        if key != self.key or len(self.refs) != len(trf_datas):
            return None
        if any(ref() is not data for ref, data in zip(self.refs, trf_datas)):
            return None
        return self.outputs

    def put(self, key, trf_datas, outputs: List[Floats2d]) -> None:
        self.clear()
        try:
            refs = [weakref.ref(data) for data in trf_datas]
        except TypeError:  # an output type that takes no weak references: do not memoise
            return
        self.key, self.refs, self.outputs = key, refs, outputs
        if trf_datas:
            # Free the vectors with the batch, unless a newer batch took the slot.
            weakref.finalize(trf_datas[0], self._clear_if, key)

    def _clear_if(self, key) -> None:
        if self.key == key:
            self.clear()

    def clear(self) -> None:
        self.key, self.refs, self.outputs = None, [], None


_LAST_BATCH = _LastBatch()
#: Whether the transformer's output is released once pooled (see ``releasing_transformer_output``).
_RELEASE = {"enabled": False}
#: The outputs released so far (by id; TransformerData is not hashable), so that a head that
#: would pool one again fails clearly.
_RELEASED: "weakref.WeakValueDictionary[int, TransformerData]" = weakref.WeakValueDictionary()


def shared_trfs2arrays(pooling: Model[Ragged, Floats2d], grad_factor: float) -> Model:
    """spacy-transformers' ``trfs2arrays`` (same name, layers and attributes, so
    that a head saved with the stock listener loads into this one), with the
    one-batch memo at prediction."""
    return Model("trfs2arrays", _forward, layers=[pooling], attrs={"grad_factor": grad_factor})


def _forward(model: Model, trf_datas: list, is_train: bool):
    if is_train:
        return trfs2arrays_forward(model, trf_datas, is_train)
    # The pooling layer's name and settings decide the output; two heads with
    # different poolings never share.
    pooling = model.layers[0]
    key = (pooling.name, repr(sorted(pooling.attrs.items())), tuple(id(data) for data in trf_datas))
    outputs = _LAST_BATCH.get(key, trf_datas)
    if outputs is None:
        if any(_RELEASED.get(id(data)) is data for data in trf_datas):
            raise RuntimeError(
                "the transformer's output of this batch was released after the first head pooled it "
                "(releasing_transformer_output), and a head asks to pool it again"
            )
        outputs = pool_in_chunks(model, trf_datas, POOL_CHUNK_TOKENS)
        _LAST_BATCH.put(key, trf_datas, outputs)
        if _RELEASE["enabled"] and _LAST_BATCH.outputs is outputs:
            for data in trf_datas:
                _release(data)

    def backprop(d_outputs):  # pragma: no cover - prediction has no backward pass
        raise ValueError("the shared listener's prediction output has no gradient")

    return outputs, backprop


def _release(trf_data) -> None:
    """Replace the arrays of ``trf_data``'s model output by empty ones of the same
    trailing shape and type (the object stays: the memo knows the batch by it)."""
    if not isinstance(trf_data, TransformerData):
        return
    output = trf_data.model_output
    for name in list(output.keys()):
        array = output[name]
        if getattr(array, "ndim", 0) >= 1 and array.shape[0] and hasattr(array, "copy"):
            output[name] = array[:0].copy()  # a copy: a view would keep the whole array alive
    _RELEASED[id(trf_data)] = trf_data


def release_allowed(nlp) -> bool:
    """Whether every transformer listener of ``nlp`` is the shared one, all with
    the same pooling, so that the first head's pooling serves them all."""
    keys, n_listeners, n_pooled = set(), 0, 0
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if not isinstance(model, Model):
            continue
        for node in model.walk():
            if node.name == "transformer-listener":
                n_listeners += 1
            elif node.name == "trfs2arrays":
                if node._func is not _forward:
                    return False  # the stock listener's pooling: it would read the output again
                n_pooled += 1
                pooling = node.layers[0]
                keys.add((pooling.name, repr(sorted(pooling.attrs.items()))))
    return n_listeners > 0 and n_listeners == n_pooled and len(keys) == 1


@contextlib.contextmanager
def releasing_transformer_output(nlp, enabled: bool = True) -> Iterator[bool]:
    """Within the block, the transformer's output of a batch is released once the
    first head has pooled it (see the module docstring), where ``enabled`` and
    :func:`release_allowed` allow it; yields whether it is. For a program that
    drops each doc's ``doc._.trf_data`` anyway, as ``scicls annotate`` does
    unless asked to keep it."""
    before = _RELEASE["enabled"]
    _RELEASE["enabled"] = bool(enabled) and release_allowed(nlp)
    try:
        yield _RELEASE["enabled"]
    finally:
        _RELEASE["enabled"] = before


def pool_in_chunks(model: Model, trf_datas: list, chunk_tokens: int) -> List[Floats2d]:
    """The stock ``trfs2arrays`` prediction of ``model``, each doc pooled
    ``chunk_tokens`` tokens at a time where the pooling allows it."""
    pooling = model.layers[0]
    if pooling.name not in ROW_WISE_POOLINGS or chunk_tokens < 1 or not all(_chunkable(d) for d in trf_datas):
        return trfs2arrays_forward(model, trf_datas, False)[0]
    return [_pool_doc(pooling, data, chunk_tokens) for data in trf_datas]


def _chunkable(trf_data) -> bool:
    """A doc with an output and an alignment to pool it with; the stock path
    handles the rest (empty docs, docs no wordpiece is aligned with)."""
    if not isinstance(trf_data, TransformerData) or "last_hidden_state" not in trf_data.model_output:
        return False
    return trf_data.model_output.last_hidden_state.size > 0 and bool(trf_data.align.lengths.sum())


def _pool_doc(pooling: Model, trf_data: TransformerData, chunk_tokens: int) -> Floats2d:
    ops = pooling.ops
    src = ops.reshape2f(trf_data.model_output.last_hidden_state, -1, trf_data.width)
    indices = trf_data.align.dataXd
    lengths = ops.asarray(trf_data.align.lengths)
    n_tokens = lengths.shape[0]
    if n_tokens <= chunk_tokens:
        return pooling.predict(Ragged(src[indices], lengths))
    # Where each token's rows begin in the alignment: the rows of tokens [a, b) are one slice.
    offsets = numpy.concatenate([[0], numpy.cumsum(ops.to_numpy(lengths), dtype="int64")])
    output = None
    for a in range(0, n_tokens, chunk_tokens):
        b = min(a + chunk_tokens, n_tokens)
        pooled = pooling.predict(Ragged(src[indices[offsets[a] : offsets[b]]], lengths[a:b]))
        if output is None:
            output = ops.alloc((n_tokens,) + pooled.shape[1:], dtype=pooled.dtype)
        output[a:b] = pooled
    return output


@registry.architectures(LISTENER_ARCHITECTURE)
def build_shared_transformer_listener_v1(
    pooling: Model[Ragged, Floats2d], grad_factor: float = 1.0, upstream: str = "*"
) -> Model[List[Doc], List[Floats2d]]:
    """Same settings and output as ``spacy-transformers.TransformerListener.v1``."""
    listener = TransformerListener(upstream_name=upstream)
    model: Model = chain(listener, shared_trfs2arrays(pooling, grad_factor))
    model.set_ref("listener", listener)
    return model
