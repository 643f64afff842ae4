"""Transfer of an entity head's shared layers between label sets.

A span head (``SpanEntityScorer.v1``/``v2``) is everything up to its output layer (the
token-form features, the projection and its convolutions, the span-width parameters and the
Maxout hidden layer), which does not depend on the label set, plus the output layer, whose
width is the number of labels + 1. ``shared_weights`` takes the parameters of the first part
from a trained head; ``load_shared_weights`` puts them into another head of the same
architecture (any labels), whose output layer keeps its own (fresh) initialisation. So a head
can be pretrained on corpora with other labels and then trained on a small corpus.

Parameters are named by the node's position in ``model.walk()``, its name and the parameter's
name, and only loaded into a head whose nodes carry the same names with the same shapes.
"""
from pathlib import Path
from typing import Dict, Union

import numpy
from thinc.api import Model


def _output_nodes(model: Model) -> set:
    if not model.has_ref("output_layer"):
        raise ValueError(f"model {model.name!r} has no 'output_layer' ref: not a span entity head")
    return {id(node) for node in model.get_ref("output_layer").walk()}


def shared_weights(model: Model) -> Dict[str, numpy.ndarray]:
    """Every parameter of ``model`` outside its output layer, as numpy arrays keyed
    ``"<walk index>/<node name>/<param name>"``."""
    skip = _output_nodes(model)
    weights = {}
    for index, node in enumerate(model.walk()):
        if id(node) in skip:
            continue
        for name in node.param_names:
            if node.has_param(name) and node.get_param(name) is not None:
                weights[f"{index}/{node.name}/{name}"] = model.ops.to_numpy(node.get_param(name)).copy()
    return weights


def load_shared_weights(model: Model, weights: Dict[str, numpy.ndarray]) -> int:
    """Set ``model``'s parameters outside its output layer from ``weights`` (made by
    ``shared_weights`` from a head of the same architecture); returns how many were set.
    The model must be initialised (its parameters allocated). Raises ``ValueError`` when a
    parameter is missing or of another node or shape, or when ``weights`` holds the output layer."""
    skip = _output_nodes(model)
    nodes = list(model.walk())
    expected = {}
    for index, node in enumerate(nodes):
        if id(node) in skip:
            continue
        for name in node.param_names:
            expected[f"{index}/{node.name}/{name}"] = (node, name)
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise ValueError(f"weights do not fit this head: missing {missing[:3]}, unexpected {extra[:3]}")
    for key, (node, name) in expected.items():
        if not node.has_param(name) or node.get_param(name) is None:
            raise ValueError(f"parameter {key} is not allocated: initialise the head first")
        current = node.get_param(name)
        if tuple(current.shape) != tuple(weights[key].shape):
            raise ValueError(f"parameter {key}: shape {tuple(weights[key].shape)} for {tuple(current.shape)}")
        node.set_param(name, model.ops.asarray(weights[key], dtype=current.dtype))
    return len(expected)


def save_shared_weights(model: Model, path: Union[str, Path]) -> None:
    """``shared_weights(model)`` saved as a ``.npz`` file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        numpy.savez(f, **shared_weights(model))


def read_shared_weights(path: Union[str, Path]) -> Dict[str, numpy.ndarray]:
    with numpy.load(Path(path)) as stored:
        return {key: stored[key] for key in stored.files}
