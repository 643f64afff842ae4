"""What made an output: the manifest written beside it, and the check of a resume against it.

An output of ``scicls annotate`` is only ever continued by the run that would
have written the same records. Before the first byte of an output is written,
``<output>.manifest.json`` records what decides its records:

- the pipeline: its name and version, and a fingerprint of its config and of
  every component's weights and settings (:func:`pipeline_fingerprint`);
- the software that runs it (spacy_scicls, spaCy, thinc, torch, transformers,
  numpy): another version may give other floats;
- the options that change records (:class:`RecordOptions`);
- how records are made (:func:`record_rules`): the version of the record's shape
  (:data:`RECORD_SCHEMA`), the field names that give a record its text and id, and
  the text and id columns of each CSV or Parquet file as they were resolved;
- the inputs as given (absolute paths, globs kept as patterns) and the output format.

A resume compares the manifest of the current run with the saved one
(:func:`check_resume`) and refuses, naming each difference, before anything
is written. The API, for any writer of records::

    manifest = make_manifest(nlp, inputs=["papers/"], options=RecordOptions(batch_size=32), output_format="jsonl")
    check_resume(output, manifest)      # ManifestMismatch (a ValueError) if the output was made otherwise
    write_manifest(output, manifest)    # atomically, before the output's first byte
"""
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from .durable import fsync_dir

FORMAT = "spacy_scicls.annotate_manifest.v1"
#: The version of how an input record becomes an output record: its id, its text, the output's keys
#: and columns. Bump it with any change that gives a record another id, text or shape, so that a
#: resume never appends records made one way to records made another. Outputs whose manifest has
#: no version were made before it was recorded (their JSONL/CSV ids may be ``<file>:<line>`` where
#: a ``doi``, ``pmid`` or ``AwardNumber`` column gives them now): they are not continued.
#:   1: ids from the id fields found by name (record_fields.ID_NAMES); --encoding; a JSON(L)
#:      record file's UTF-8 byte-order mark dropped; Markdown decoded like text.
RECORD_SCHEMA = 1
SUFFIX = ".manifest.json"
#: Distributions whose versions are part of the manifest: each can change the floats of a record.
SOFTWARE = ("spacy-scicls", "spacy", "spacy-transformers", "thinc", "torch", "transformers", "numpy")


class ManifestMismatch(ValueError):
    """The output was made by another pipeline, other software, options or inputs."""

    def __init__(self, output: Path, differences: Sequence[str]):
        self.output = Path(output)
        self.differences = list(differences)
        super().__init__(
            f"{output} was made differently, so --resume would mix records: "
            + "; ".join(self.differences)
            + ". Run with what made it, or use --overwrite to start again."
        )


@dataclass(frozen=True)
class RecordOptions:
    """The options of a run that change what its records hold (not, e.g., the number of processes)."""

    batch_size: int = 32  # the pipeline's batches: the same records in a batch give the same floats
    include_text: bool = True
    max_chars: Optional[int] = None  # None: the pipeline's max_length
    format: Optional[str] = None
    text_columns: Optional[Tuple[str, ...]] = None
    id_column: Optional[str] = None
    device: str = "cpu"  # "cpu" or "gpu": the same model gives other floats on a GPU
    keep_trf_data: bool = False  # .spacy output only
    encoding: Optional[str] = None  # of input text that is not UTF-8 (None: refused)

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        data["text_columns"] = list(self.text_columns) if self.text_columns is not None else None
        return data


def manifest_path(output: Path) -> Path:
    """``<output>.manifest.json``."""
    output = Path(output)
    return output.with_name(output.name + SUFFIX)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=True, default=str).encode("utf8")


def _model_digest(model: Any, digest: "hashlib._Hash") -> None:
    """Hash a thinc model's parameters and the state of its PyTorch modules, node by node.

    Not ``model.to_bytes()``: a PyTorch shim serializes with ``torch.save``, whose archive holds an id
    that differs from one save to the next, so the same weights would never give the same bytes.
    """
    for node in model.walk():
        digest.update(f"node|{node.name}|".encode("utf8"))
        for name in node.param_names:
            if node.has_param(name):
                array = node.ops.to_numpy(node.get_param(name))
                digest.update(f"{name}|{array.shape}|{array.dtype}|".encode("utf8"))
                digest.update(array.tobytes())
        for shim in node.shims:
            module = getattr(shim, "_model", None)
            state = getattr(module, "state_dict", None)
            if callable(state):
                from ..pipeline.frozen_transformer import weights_fingerprint

                digest.update(_json_bytes(weights_fingerprint(module)))


def component_fingerprint(pipe: Any) -> str:
    """SHA-256 of what a component runs on: its model's weights and its other serialized state
    (settings, patterns, labels), without the shared vocab.

    A component that knows a cheaper fingerprint of its weights (the frozen
    transformer: the SHA-256 of its encoder's weights, config and tokenizer)
    gives that, with its settings; a plain function component has no state,
    and only its name in the config counts.
    """
    fingerprint = getattr(pipe, "fingerprint", None)
    if callable(fingerprint):
        return _sha256(_json_bytes({"fingerprint": fingerprint(), "cfg": getattr(pipe, "cfg", None)}))
    to_bytes = getattr(pipe, "to_bytes", None)
    if not callable(to_bytes):
        return _sha256(b"stateless")
    digest = hashlib.sha256()
    exclude = ["vocab"]
    model = getattr(pipe, "model", None)
    if model is not None and callable(getattr(model, "walk", None)):
        _model_digest(model, digest)
        exclude.append("model")
    try:
        digest.update(to_bytes(exclude=exclude))
    except TypeError:  # a to_bytes without exclude
        digest.update(to_bytes())
    return digest.hexdigest()


def pipeline_fingerprint(nlp: Any) -> Dict[str, Any]:
    """The pipeline's name, version and fingerprints: of its config, its tokenizer and each component."""
    meta = nlp.meta or {}
    config = nlp.config.to_str() if hasattr(nlp, "config") else ""
    components = {name: component_fingerprint(pipe) for name, pipe in nlp.pipeline}
    tokenizer = nlp.tokenizer
    try:
        tokenizer_sha = _sha256(tokenizer.to_bytes(exclude=["vocab"]))
    except (AttributeError, TypeError, NotImplementedError):
        tokenizer_sha = _sha256(type(tokenizer).__qualname__.encode("utf8"))
    parts = {"config": _sha256(config.encode("utf8")), "tokenizer": tokenizer_sha, "components": components}
    return {
        "name": f"{meta.get('lang', '')}_{meta.get('name', '')}",
        "version": str(meta.get("version", "")),
        "sha256": _sha256(_json_bytes(parts)),
        **parts,
    }


def software_versions() -> Dict[str, Optional[str]]:
    versions: Dict[str, Optional[str]] = {}
    for name in SOFTWARE:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _absolute_input(item: str) -> str:
    # Absolute without resolving links: a glob stays a glob, and a resume from another
    # folder with the same relative paths names other files.
    return os.path.abspath(os.path.expanduser(item))


def record_rules(columns: Optional[Mapping[str, Mapping[str, Sequence[str]]]] = None) -> Dict[str, Any]:
    """How records are made: :data:`RECORD_SCHEMA`, a fingerprint of the field names that give a
    record its text and id when no column is named (:mod:`.record_fields`, and how text columns
    are joined), and ``columns``: for each CSV or Parquet file (by path), the text columns and the
    id columns (tried in order) it was read with, as resolved from its header."""
    from . import record_fields
    from .inputs import FIELD_SEPARATOR

    names = {
        "text": record_fields.TEXT_NAMES,
        "title": record_fields.TITLE_NAMES,
        "abstract": record_fields.ABSTRACT_NAMES,
        "id": record_fields.ID_NAMES,
        "separator": FIELD_SEPARATOR,
    }
    return {
        "schema": RECORD_SCHEMA,
        "field_names": _sha256(_json_bytes(names)),
        "columns": {
            _absolute_input(path): {"text": list(found.get("text", [])), "id": list(found.get("id", []))}
            for path, found in (columns or {}).items()
        },
    }


def make_manifest(
    nlp: Any,
    *,
    inputs: Sequence[str],
    options: RecordOptions,
    output_format: str,
    fingerprint: Optional[Dict[str, Any]] = None,
    records: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The manifest of a run of ``nlp`` on ``inputs`` (``fingerprint``: a precomputed
    :func:`pipeline_fingerprint`, e.g. when several writers share one pipeline; ``records``: the
    :func:`record_rules` of the inputs, by default those without any CSV or Parquet file's columns)."""
    return {
        "format": FORMAT,
        "pipeline": fingerprint if fingerprint is not None else pipeline_fingerprint(nlp),
        "software": software_versions(),
        "records": records if records is not None else record_rules(),
        "options": options.to_dict(),
        "output_format": output_format,
        "inputs": [_absolute_input(str(item)) for item in inputs],
    }


def read_manifest(output: Path) -> Optional[Dict[str, Any]]:
    """The saved manifest of ``output``; None if there is none. ValueError if it is not one."""
    path = manifest_path(output)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        manifest = json.loads(data.decode("utf8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise ManifestMismatch(output, [f"{path.name} is not a manifest ({err})"]) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ManifestMismatch(output, [f"{path.name} is not a manifest of this version ({FORMAT})"])
    return manifest


def _staged_path(output: Path) -> Path:
    path = manifest_path(output)
    return path.with_name(path.name + ".tmp")


def stage_manifest(output: Path, manifest: Mapping[str, Any]) -> None:
    """Write the manifest to its temporary file and flush it to disk, without putting it in place
    (:func:`commit_manifest`): a full disk fails here, before anything of the output is changed.
    On an error no partial file is left."""
    tmp = _staged_path(output)
    data = json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf8") + b"\n"
    try:
        with tmp.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def commit_manifest(output: Path) -> None:
    """Put the staged manifest in place (a rename, then fsync of the folder)."""
    path = manifest_path(output)
    os.replace(_staged_path(output), path)
    fsync_dir(path.parent)


def write_manifest(output: Path, manifest: Mapping[str, Any]) -> None:
    """Write the manifest atomically (a temporary file, fsync, rename, fsync of the folder)."""
    stage_manifest(output, manifest)
    commit_manifest(output)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> List[str]:
    """What differs between two manifests, one phrase each (empty when they agree)."""
    out: List[str] = []
    old_p, new_p = saved.get("pipeline") or {}, current.get("pipeline") or {}
    for key in ("name", "version"):
        if old_p.get(key) != new_p.get(key):
            out.append(f"pipeline {key} {_show(old_p.get(key))} in the output, {_show(new_p.get(key))} now")
    if old_p.get("sha256") != new_p.get("sha256"):
        changed = []
        if old_p.get("config") != new_p.get("config"):
            changed.append("its config")
        if old_p.get("tokenizer") != new_p.get("tokenizer"):
            changed.append("its tokenizer")
        old_c, new_c = old_p.get("components") or {}, new_p.get("components") or {}
        if list(old_c) != list(new_c):
            changed.append(f"its components ({', '.join(old_c)} in the output; {', '.join(new_c)} now)")
        else:
            changed += [f"component {name!r}" for name in new_c if old_c.get(name) != new_c.get(name)]
        out.append("the pipeline's fingerprint differs (" + (", ".join(changed) or "its weights") + ")")
    out += record_differences(saved.get("records"), current.get("records") or {})
    for section, label in (("software", "version of"), ("options", "option")):
        old, new = saved.get(section) or {}, current.get(section) or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                out.append(f"{label} {key}: {_show(old.get(key))} in the output, {_show(new.get(key))} now")
    if saved.get("output_format") != current.get("output_format"):
        out.append(f"output format {_show(saved.get('output_format'))} in the output, {_show(current.get('output_format'))} now")
    if saved.get("inputs") != current.get("inputs"):
        out.append(f"inputs {_show(saved.get('inputs'))} in the output, {_show(current.get('inputs'))} now")
    return out


def _columns_in_words(found: Optional[Mapping[str, Any]]) -> str:
    if found is None:
        return "not read"
    text = " + ".join(repr(c) for c in found.get("text") or []) or "none"
    ids = ", then ".join(repr(c) for c in found.get("id") or [])
    return f"text from {text}, id from {ids or '<file>:<row>'}"


def record_differences(saved: Optional[Mapping[str, Any]], current: Mapping[str, Any]) -> List[str]:
    """How the records of the output were made otherwise than this run would make them."""
    if saved is None:
        return [
            f"record schema: none in the output (made by a version that did not record how it made "
            f"records, whose ids may differ), {current.get('schema')} now"
        ]
    out: List[str] = []
    if saved.get("schema") != current.get("schema"):
        out.append(f"record schema {_show(saved.get('schema'))} in the output, {_show(current.get('schema'))} now")
    if saved.get("field_names") != current.get("field_names"):
        out.append("the field names that give a record its text and id differ (another version of record_fields)")
    old_c, new_c = saved.get("columns") or {}, current.get("columns") or {}
    for path in sorted(set(old_c) | set(new_c)):
        if old_c.get(path) != new_c.get(path):
            out.append(
                f"columns of {Path(path).name}: {_columns_in_words(old_c.get(path))} in the output, "
                f"{_columns_in_words(new_c.get(path))} now"
            )
    return out


def check_resume(output: Path, current: Mapping[str, Any]) -> None:
    """Refuse (:class:`ManifestMismatch`) to continue ``output`` unless its manifest is ``current``.

    An output without a manifest (made by an older version, or not by this
    command) is refused too: nothing says what made its records.
    """
    saved = read_manifest(output)
    if saved is None:
        raise ManifestMismatch(
            output, [f"it has no {manifest_path(output).name}, so what made its records is unknown"]
        )
    found = differences(saved, current)
    if found:
        raise ManifestMismatch(output, found)


__all__ = [
    "FORMAT",
    "ManifestMismatch",
    "RECORD_SCHEMA",
    "RecordOptions",
    "check_resume",
    "commit_manifest",
    "component_fingerprint",
    "differences",
    "make_manifest",
    "manifest_path",
    "pipeline_fingerprint",
    "read_manifest",
    "record_differences",
    "record_rules",
    "software_versions",
    "stage_manifest",
    "write_manifest",
]
