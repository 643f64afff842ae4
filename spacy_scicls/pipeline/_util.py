"""Small helpers shared by the heads."""
from typing import Iterable

from thinc.api import Model

# Every head reads the shared transformer by default: a listener whose
# wordpiece vectors are mean-pooled into one vector per spaCy token.
LISTENER_TOK2VEC_CONFIG = """
[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


def set_output_width(model: Model, n_outputs: int) -> None:
    """Give the model's output layer its width before the model is initialized."""
    output_layer = model.get_ref("output_layer")
    if not output_layer.has_dim("nO"):
        output_layer.set_dim("nO", n_outputs)
    elif output_layer.get_dim("nO") != n_outputs:
        raise ValueError(
            f"The output layer has {output_layer.get_dim('nO')} outputs but the "
            f"component has {n_outputs} labels; labels cannot change after initialization."
        )


def sample(items: Iterable, n: int = 10) -> list:
    out = []
    for item in items:
        out.append(item)
        if len(out) >= n:
            break
    return out
