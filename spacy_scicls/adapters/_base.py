"""What the seed-model adapters share: lazy safe loading, devices, serialization.

A published model is loaded when the pipeline is initialized (``nlp.initialize()``),
when a saved pipeline is read back with its weights (``from_disk``), or, at the
latest, before the first document is annotated. So a wrong name or a label the
taxonomy does not know fails before any document is touched, and a pipeline
saved with its weights loads again without asking the hub.
"""
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Union

import srsly
import torch
from spacy.pipeline import Pipe
from spacy.tokens import Doc
from spacy.util import minibatch

from .loading import inference_context, place

# The settings every adapter takes, with their defaults.
LOADING_DEFAULTS: Dict[str, Any] = {
    "batch_size": 16,
    "allow_pickle": False,
    "local_files_only": False,
    "revision": None,
    "half_precision": False,
    "inference_mode": True,
    "save_weights": True,
}
WEIGHTS_DIR = "model"


class SeedModelPipe(Pipe):
    """A non-trainable pipe around one published model, named by hub name or folder.

    Subclasses implement ``_load(source)`` (load the model from a hub name or
    folder and check it), ``_save(path)`` (save what ``_load`` reads back) and
    ``_annotate(docs)`` (run the model on a batch of docs and write the results).
    """

    name: str
    cfg: Dict[str, Any]

    def __init__(self, name: str, model: str, **settings: Any) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ValueError(f"[{name}] 'model' must be a hub name or a folder, got {model!r}")
        unknown = set(settings) - set(LOADING_DEFAULTS)
        if unknown:
            raise TypeError(f"[{name}] unknown settings {sorted(unknown)}")
        self.name = name
        self.cfg = {"model": model, **LOADING_DEFAULTS, **settings}
        if int(self.cfg["batch_size"]) < 1:
            raise ValueError(f"[{name}] batch_size must be at least 1, got {self.cfg['batch_size']}")
        self._source: Optional[str] = None

    # ------------------------------------------------------------ loading
    @property
    def is_loaded(self) -> bool:
        return self._source is not None

    @property
    def source(self) -> Optional[str]:
        """Where the loaded weights came from (hub name or folder); None before loading."""
        return self._source

    def load(self, source: Optional[str] = None) -> None:
        """Load the model from ``source`` (default: the configured ``model``) and check its labels."""
        source = source or self.cfg["model"]
        self._load(source)
        self._source = source

    def ensure_loaded(self) -> None:
        if not self.is_loaded:
            self.load()

    def initialize(self, get_examples: Optional[Callable[[], Iterable]] = None, *, nlp=None) -> None:
        """Load the published model (nothing is trained)."""
        self.ensure_loaded()

    def loading_kwargs(self) -> Dict[str, Any]:
        return {
            "allow_pickle": bool(self.cfg["allow_pickle"]),
            "local_files_only": bool(self.cfg["local_files_only"]),
            "revision": self.cfg["revision"],
        }

    def _load(self, source: str) -> None:
        raise NotImplementedError

    def _save(self, path: Path) -> None:
        raise NotImplementedError

    def _torch_module(self):
        raise NotImplementedError

    def _annotate(self, docs: List[Doc]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ running
    def __call__(self, doc: Doc) -> Doc:
        self.run([doc])
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        """Annotate docs in batches of ``batch_size`` docs; the model sees the inputs of a
        whole batch together, ``cfg["batch_size"]`` at a time."""
        for docs in minibatch(stream, size=batch_size):
            self.run(docs)
            yield from docs

    def run(self, docs: List[Doc]) -> None:
        self.ensure_loaded()
        if not docs:
            return
        # The device is checked on every batch, so spacy.require_gpu() after
        # loading still moves the model.
        self.device, self.dtype = place(self._torch_module(), half_precision=bool(self.cfg["half_precision"]))
        with inference_context(bool(self.cfg["inference_mode"])):
            self._annotate(list(docs))

    # ------------------------------------------------------------ serialization
    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", self.cfg)
        weights = path / WEIGHTS_DIR
        if weights.exists():
            shutil.rmtree(weights)
        if self.cfg["save_weights"] and self.is_loaded:
            # Saved on the CPU in float32, whatever it runs in.
            self._torch_module().to(device="cpu", dtype=torch.float32)
            self._save(weights)

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "SeedModelPipe":
        path = Path(path)
        if (path / "cfg").exists():
            self.cfg.update(srsly.read_json(path / "cfg"))
        if (path / WEIGHTS_DIR / "config.json").exists():
            # Saved by to_disk, always as safetensors; read from the folder only.
            self._source = None
            model_name = self.cfg["model"]
            self._load_saved(str(path / WEIGHTS_DIR))
            self.cfg["model"] = model_name
        else:
            self._source = None
        return self

    def _load_saved(self, folder: str) -> None:
        settings = dict(self.cfg)
        self.cfg.update(allow_pickle=False, local_files_only=True, revision=None)
        try:
            self.load(folder)
        finally:
            for key in ("allow_pickle", "local_files_only", "revision"):
                self.cfg[key] = settings[key]

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            self.to_disk(tmp)
            files = {
                str(p.relative_to(tmp)): p.read_bytes() for p in sorted(Path(tmp).rglob("*")) if p.is_file()
            }
        return srsly.msgpack_dumps(files)

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "SeedModelPipe":
        """Read what :meth:`to_bytes` wrote. Every file name in the data is checked before
        anything is written: a relative path that stays inside the folder, or ValueError."""
        files = srsly.msgpack_loads(bytes_data)
        if not isinstance(files, dict):
            raise ValueError(f"[{self.name}] from_bytes: not the data of to_bytes")
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp).resolve()
            targets = [(_safe_target(root, relative, self.name), data) for relative, data in files.items()]
            for target, data in targets:
                if not isinstance(data, bytes):
                    raise ValueError(f"[{self.name}] from_bytes: the content of {target.name!r} is not bytes")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            self.from_disk(tmp)
        return self


def _safe_target(root: Path, relative: object, name: str) -> Path:
    """``root / relative`` for a plain relative file name that stays inside ``root``; ValueError otherwise
    (an absolute path, ``..``, a link out, a NUL byte: bytes from elsewhere must not write files anywhere)."""
    if not isinstance(relative, str) or not relative or "\x00" in relative or "\\" in relative:
        raise ValueError(f"[{name}] from_bytes: refused file name {relative!r}")
    parts = Path(relative).parts
    if Path(relative).is_absolute() or any(part in ("..", ".", "") for part in parts):
        raise ValueError(f"[{name}] from_bytes: refused file name {relative!r} (outside the folder)")
    target = (root / relative).resolve()
    if root not in target.parents:
        raise ValueError(f"[{name}] from_bytes: refused file name {relative!r} (outside the folder)")
    return target
