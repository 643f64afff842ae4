"""A faster prediction path for a head's feed-forward layers: same weights, plain numpy.

At prediction thinc evaluates a chain layer by layer through its ops: every
layer builds a backprop closure and keeps what that needs, matrix products go
through BLIS, a Maxout reduces its pieces along the last axis, and
``with_array`` and ``residual`` copy their inputs. For the entity head's
token-level stack (a projection, residual window-Maxout layers with layer
norms, another projection), which runs over every token of a paper, that
overhead is most of the head's time.

``predict(layer, X)`` gives what ``layer.predict(X)`` gives, computed from the
same parameters (read at every call, so training, ``use_params`` and loading
see no difference) with numpy matrix products and in-place arithmetic. It
knows the layers these heads are built from (``chain``/``clone``, ``Linear``,
``Maxout``, ``LayerNorm``, ``residual``, ``expand_window``, ``with_array``,
``Dropout``); for any other layer, or ops other than numpy's (a GPU), it calls
``layer.predict``. ``thinc_prediction()`` turns the path off in a ``with``
block, to compare the two.

numpy's matrix products use the BLAS that numpy was built with and its own
thread pool: set ``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``) to limit
it, as ``torch.set_num_threads`` limits the encoder.
"""
import contextlib
import importlib
from typing import List, Optional, Union

import numpy
from thinc.api import Model, NumpyOps
# The layers' modules (``thinc.layers.chain`` etc. are also the names of the
# functions), whose forward functions identify a layer's kind.
_chain, _dropout, _expand_window, _layernorm, _linear, _maxout, _residual, _with_array = (
    importlib.import_module(f"thinc.layers.{name}")
    for name in ("chain", "dropout", "expand_window", "layernorm", "linear", "maxout", "residual", "with_array")
)

_state = {"enabled": True}


class _Unsupported(Exception):
    pass


@contextlib.contextmanager
def thinc_prediction():
    """Within the block, ``predict`` uses thinc's own ``layer.predict``."""
    before = _state["enabled"]
    _state["enabled"] = False
    try:
        yield
    finally:
        _state["enabled"] = before


def predict(layer: Model, X: Union[numpy.ndarray, List[numpy.ndarray]]):
    """``layer.predict(X)``, through the numpy path where ``layer`` allows it."""
    plan = _plan_of(layer) if _state["enabled"] and isinstance(layer.ops, NumpyOps) else None
    if plan is None:
        return layer.predict(X)
    if isinstance(X, list):
        if plan[0][0] != "with_array":
            return layer.predict(X)
        return _run(plan, X)
    return _run(plan, numpy.ascontiguousarray(X, dtype="float32"))


def _plan_of(layer: Model) -> Optional[list]:
    """The steps of ``layer`` (its sublayers, never their weights), or None where
    a layer is not one this path knows. Walking the tree costs microseconds, so
    nothing is cached (a cache would keep every model it saw alive)."""
    try:
        return _compile(layer)
    except _Unsupported:
        return None


def _compile(layer: Model) -> list:
    func = layer._func
    if func is _chain.forward:
        return [step for sub in layer.layers for step in _compile(sub)]
    if func is _linear.forward:
        return [("linear", layer)]
    if func is _maxout.forward:
        return [("maxout", layer)]
    if func is _layernorm.forward:
        return [("layernorm", layer)]
    if func is _dropout.forward:
        return []
    if func is _residual.forward:
        return [("residual", _compile(layer.layers[0]))]
    if func is _expand_window.forward:
        return [("window", int(layer.attrs["window_size"]))]
    if func is _with_array.forward:
        return [("with_array", int(layer.attrs.get("pad", 0)), _compile(layer.layers[0]))]
    raise _Unsupported(layer.name)


def _run(plan: list, X):
    for step in plan:
        kind = step[0]
        if kind == "with_array":
            X = _with_array_step(step[1], step[2], X)
        elif kind == "linear":
            X = _linear_step(step[1], X)
        elif kind == "maxout":
            X = _maxout_step(step[1], X)
        elif kind == "layernorm":
            X = _layernorm_step(step[1], X)
        elif kind == "residual":
            X = X + _run(step[1], X)
        elif kind == "window":
            X = _window(X, step[1])
    return X


def _with_array_step(pad: int, plan: list, X):
    if not isinstance(X, list):
        return _run(plan, X)
    if not X:
        return []
    # As thinc's with_array: the docs are stacked with ``pad`` zero rows
    # around each, so that a window never reaches into the next doc.
    lengths = [x.shape[0] for x in X]
    width = X[0].shape[1]
    rows = sum(lengths) + pad * (len([n for n in lengths if n]) + 1)
    flat = numpy.zeros((rows, width), dtype="float32")
    starts, at = [], pad
    for x, n in zip(X, lengths):
        starts.append(at)
        if n:
            flat[at : at + n] = x
            at += n + pad
    Y = _run(plan, flat)
    return [Y[s : s + n] for s, n in zip(starts, lengths)]


def _linear_step(layer: Model, X: numpy.ndarray) -> numpy.ndarray:
    Y = X @ layer.get_param("W").T
    Y += layer.get_param("b")
    return Y


def _maxout_step(layer: Model, X: numpy.ndarray) -> numpy.ndarray:
    nO, nP = layer.get_dim("nO"), layer.get_dim("nP")
    W = layer.get_param("W")  # (nO, nP, nI)
    b = layer.get_param("b")  # (nO, nP)
    # Pieces as column blocks: the maximum is then taken over contiguous slices.
    Wp = W.transpose(1, 0, 2).reshape(nP * nO, W.shape[2])
    Y = X @ Wp.T
    Y += b.T.reshape(-1)
    out = Y[:, :nO].copy()
    for p in range(1, nP):
        numpy.maximum(out, Y[:, p * nO : (p + 1) * nO], out=out)
    return out


def _layernorm_step(layer: Model, X: numpy.ndarray) -> numpy.ndarray:
    centred = X - X.mean(axis=1, keepdims=True)
    var = numpy.einsum("ij,ij->i", centred, centred)[:, None] / X.shape[1] + 1e-08
    centred *= 1.0 / numpy.sqrt(var)
    centred *= layer.get_param("G")
    centred += layer.get_param("b")
    return centred


def _window(X: numpy.ndarray, nW: int) -> numpy.ndarray:
    """thinc's seq2col: each row followed by its ``nW`` neighbours on each
    side (zeros past the ends), as ``[x[i-nW] .. x[i] .. x[i+nW]]``."""
    n, d = X.shape
    out = numpy.zeros((n, (2 * nW + 1) * d), dtype=X.dtype)
    for k in range(-nW, nW + 1):
        block = out[:, (k + nW) * d : (k + nW + 1) * d]
        if k < 0:
            block[-k:] = X[: n + k]
        elif k > 0:
            block[: n - k] = X[k:]
        else:
            block[:] = X
    return out


__all__ = ["predict", "thinc_prediction"]
