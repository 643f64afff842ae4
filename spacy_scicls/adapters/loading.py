"""Safe loading of published models by hub name or folder, and where they run.

Safe by default: remote code is never run (``trust_remote_code=False``), weights
come from safetensors files, and pickled weights (``pytorch_model.bin``) are
loaded only when the caller opts in with ``allow_pickle=True``. A model that
cannot be loaded raises :class:`ModelLoadError`, which says which model and why
(no such folder, not on the hub, hub unreachable, only pickled weights, ...).

Device placement follows spaCy/thinc: after ``spacy.require_gpu()`` the current
thinc ops are GPU ops and :func:`torch_device` names that GPU.
"""
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch

# Files that hold pickled (torch.save) weights; loading them can run code.
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")


class ModelLoadError(OSError):
    """A published model could not be loaded; the message says which and why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Could not load the model {name!r}: {reason}")
        self.name = name
        self.reason = reason


def hub_kwargs(local_files_only: bool = False, revision: Optional[str] = None) -> Dict[str, Any]:
    """Keyword arguments for every ``from_pretrained`` call: never run remote code."""
    kwargs: Dict[str, Any] = {"trust_remote_code": False, "local_files_only": bool(local_files_only)}
    if revision:
        kwargs["revision"] = revision
    return kwargs


def is_local(name: str) -> bool:
    """Whether ``name`` is meant as a folder rather than a hub name."""
    text = os.fspath(name)
    return (
        os.path.isdir(text)
        or text.startswith((".", "/", "~"))
        or os.path.isabs(text)
        or text.count("/") > 1
        or "\\" in text
    )


def explain(name: str, err: BaseException, *, local_files_only: bool = False) -> ModelLoadError:
    """Turn an error from ``from_pretrained`` into a :class:`ModelLoadError` with a reason."""
    if isinstance(err, ModelLoadError):
        return err
    text = str(err)
    lowered = text.lower()
    if is_local(name):
        path = Path(os.path.expanduser(os.fspath(name)))
        if not path.exists():
            reason = f"there is no folder {str(path)!r} (and a path is not a hub name)"
        elif not (path / "config.json").exists():
            reason = f"the folder {str(path)!r} has no config.json, so it is not a saved model"
        else:
            reason = f"{type(err).__name__}: {text}"
        return ModelLoadError(name, reason)
    if "repository not found" in lowered or "is not a valid model identifier" in lowered or "404" in text:
        reason = "it is neither a local folder nor a model on the Hugging Face hub (not found)"
    elif local_files_only or "local_files_only" in lowered or ("offline" in lowered and "connect" not in lowered):
        reason = (
            "it is not a local folder and not in the local Hugging Face cache, and downloads are off "
            "(offline mode or local_files_only)"
        )
    elif "connect" in lowered or "connection" in lowered or "name resolution" in lowered:
        reason = (
            "it is not a local folder or in the local Hugging Face cache, and the Hugging Face hub could "
            "not be reached (no internet?)"
        )
    else:
        reason = f"{type(err).__name__}: {text}"
    return ModelLoadError(name, reason)


def model_file(name: str, filename: str, *, local_files_only: bool = False, revision: Optional[str] = None) -> Optional[str]:
    """Local path of ``filename`` in the model ``name`` (folder or hub), or None if it has none."""
    if is_local(name):
        path = Path(os.path.expanduser(os.fspath(name))) / filename
        return str(path) if path.is_file() else None
    from transformers.utils import cached_file

    try:
        return cached_file(
            name,
            filename,
            revision=revision,
            local_files_only=local_files_only,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
        )
    except OSError:
        return None


def weights_format(name: str, *, local_files_only: bool = False, revision: Optional[str] = None) -> Optional[str]:
    """``"safetensors"``, ``"pickle"`` or None (unknown, e.g. the hub could not be asked)."""
    for filename in SAFE_WEIGHTS:
        if model_file(name, filename, local_files_only=local_files_only, revision=revision):
            return "safetensors"
    for filename in PICKLED_WEIGHTS:
        if model_file(name, filename, local_files_only=local_files_only, revision=revision):
            return "pickle"
    return None


def check_weights(name: str, allow_pickle: bool, *, local_files_only: bool = False, revision: Optional[str] = None) -> Optional[str]:
    """Refuse a model whose only weights are pickled, unless ``allow_pickle``."""
    found = weights_format(name, local_files_only=local_files_only, revision=revision)
    if found == "pickle" and not allow_pickle:
        raise ModelLoadError(
            name,
            "it has only pickled weights (pytorch_model.bin), which can run code when loaded. "
            "Convert it to safetensors, or set allow_pickle = true if you trust its source.",
        )
    return found


def load_sequence_classifier(
    name: str, *, allow_pickle: bool = False, local_files_only: bool = False, revision: Optional[str] = None
):
    """``(config, tokenizer, model)`` of a Hugging Face sequence classifier, loaded safely."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    kwargs = hub_kwargs(local_files_only, revision)
    try:
        config = AutoConfig.from_pretrained(name, **kwargs)
        check_weights(name, allow_pickle, local_files_only=local_files_only, revision=revision)
        tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
        model = AutoModelForSequenceClassification.from_pretrained(
            name, config=config, use_safetensors=None if allow_pickle else True, **kwargs
        )
    except Exception as err:  # noqa: BLE001 (every failure becomes one clear error)
        raise explain(name, err, local_files_only=local_files_only) from err
    model.eval()
    return config, tokenizer, model


def read_json_file(name: str, filename: str, *, local_files_only: bool = False, revision: Optional[str] = None) -> Optional[Any]:
    """A JSON file shipped beside the model (e.g. ``metadata.json``), or None if there is none."""
    path = model_file(name, filename, local_files_only=local_files_only, revision=revision)
    if path is None:
        return None
    try:
        with open(path, encoding="utf8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise ModelLoadError(name, f"its {filename} is not valid JSON ({err})") from err


def load_span_marker(
    name: str, *, allow_pickle: bool = False, local_files_only: bool = False, revision: Optional[str] = None
):
    """A ``SpanMarkerModel`` with its tokenizer, loaded safely and from ``name`` alone.

    ``SpanMarkerModel.from_pretrained`` reads the encoder's config and tokenizer
    from the encoder's original name (e.g. ``allenai/scibert_scivocab_uncased``),
    a second download, and it fails when that name is gone; a saved SpanMarker
    model carries both itself. Here the encoder is built from the config stored
    in the model, the tokenizer comes from the model's own files when it has
    them, and the weights from its safetensors file (a pickled file only with
    ``allow_pickle``).
    """
    from span_marker import SpanMarkerConfig, SpanMarkerModel
    from span_marker.tokenizer import SpanMarkerTokenizer
    from transformers import AutoConfig, AutoModel

    kwargs = hub_kwargs(local_files_only, revision)
    where = {"local_files_only": local_files_only, "revision": revision}
    try:
        settings, _ = SpanMarkerConfig.get_config_dict(name, **kwargs)
        if settings.get("model_type") != SpanMarkerConfig.model_type or not settings.get("encoder"):
            raise ModelLoadError(
                name, f"it is not a SpanMarker model (its config says model_type {settings.get('model_type')!r})"
            )
        config = SpanMarkerConfig.from_pretrained(name, **kwargs)
        found = check_weights(name, allow_pickle, **where)
        if found is None:
            raise ModelLoadError(name, "it has no weights file (model.safetensors or pytorch_model.bin)")
        state = _read_state_dict(name, found, **where)
        encoder_settings = {k: v for k, v in config.encoder.items() if k not in ("trust_remote_code", "_name_or_path")}
        encoder_config = AutoConfig.for_model(**encoder_settings)
        embeddings = [v for k, v in state.items() if k.endswith("word_embeddings.weight")]
        if embeddings:
            encoder_config.vocab_size = int(embeddings[0].shape[0])
        encoder = AutoModel.from_config(encoder_config)
        model = SpanMarkerModel(config, encoder=encoder)
        missing, unexpected = model.load_state_dict(state, strict=False)
        # Buffers such as position_ids are rebuilt by the model; real weights must all be there.
        missing = [k for k in missing if not k.endswith("position_ids")]
        if missing or unexpected:
            raise ModelLoadError(
                name, f"its weights do not fit its config (missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
        own_tokenizer = model_file(name, "tokenizer_config.json", **where) is not None
        source = name if own_tokenizer else config.encoder.get("_name_or_path", name)
        tokenizer = SpanMarkerTokenizer.from_pretrained(source, config=config, **kwargs)
        if len(tokenizer) > encoder_config.vocab_size:
            raise ModelLoadError(
                name, f"its tokenizer has {len(tokenizer)} tokens but its encoder only {encoder_config.vocab_size}"
            )
        model.set_tokenizer(tokenizer)
    except Exception as err:  # noqa: BLE001
        raise explain(name, err, local_files_only=local_files_only) from err
    model.eval()
    return model


def _read_state_dict(name: str, found: str, **where) -> Dict[str, torch.Tensor]:
    if found == "safetensors":
        from safetensors.torch import load_file

        single = model_file(name, "model.safetensors", **where)
        if single:
            return load_file(single)
        files = _shards(name, "model.safetensors.index.json", **where)
        state: Dict[str, torch.Tensor] = {}
        for path in files:
            state.update(load_file(path))
        return state
    single = model_file(name, "pytorch_model.bin", **where)
    files = [single] if single else _shards(name, "pytorch_model.bin.index.json", **where)
    state = {}
    for path in files:
        state.update(torch.load(path, map_location="cpu", weights_only=True))
    return state


def _shards(name: str, index_file: str, **where) -> List[str]:
    index = read_json_file(name, index_file, **where) or {}
    paths = []
    for shard in sorted(set(index.get("weight_map", {}).values())):
        path = model_file(name, shard, **where)
        if path is None:
            raise ModelLoadError(name, f"its weight shard {shard!r} is missing")
        paths.append(path)
    return paths


# ---------------------------------------------------------------- devices
def torch_device() -> torch.device:
    """The torch device of spaCy/thinc's current ops (a GPU after ``spacy.require_gpu()``)."""
    from thinc.api import get_current_ops

    ops = get_current_ops()
    if getattr(ops, "device_type", "cpu") == "gpu":
        return torch.device("cuda", int(getattr(ops, "device_id", 0) or 0))
    return torch.device("cpu")


def place(model: torch.nn.Module, *, half_precision: bool = False) -> Tuple[torch.device, torch.dtype]:
    """Move ``model`` to thinc's current device; half precision only on a GPU."""
    device = torch_device()
    dtype = torch.float16 if (half_precision and device.type == "cuda") else torch.float32
    current = next(model.parameters(), None)
    if current is None or current.device != device or current.dtype != dtype:
        model.to(device=device, dtype=dtype)
    return device, dtype


def inference_context(inference_mode: bool):
    """``torch.inference_mode()`` (faster) or ``torch.no_grad()``."""
    return torch.inference_mode() if inference_mode else torch.no_grad()
