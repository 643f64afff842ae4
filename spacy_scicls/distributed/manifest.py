"""The manifest of a sharded output: what made it (inputs, pipeline, options) and its shards.

``manifest.json`` sits in the output folder beside the shard files. It is
written (atomically) before the first shard, so that a run that dies at any
point leaves a folder that ``--resume`` can check: a resume with other inputs,
another pipeline or options that change records is refused, saying what
differs, before anything is written. A shard is complete when its file exists
(shard files are written whole, then renamed) and holds the ids the manifest
expects.
"""
import hashlib
import json
import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ..cli.durable import fsync_dir

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "spacy_scicls.shards.v1"
SHARD_FORMATS = ("jsonl", "parquet")


class ManifestError(ValueError):
    """The output folder cannot be written or resumed (the message says why)."""


def ids_digest(ids: Sequence[str]) -> str:
    """A digest of a shard's record ids, in order (ids may hold lone surrogates: kept as they are)."""
    digest = hashlib.sha256()
    for rid in ids:
        digest.update(rid.encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
    return digest.hexdigest()


def shard_file_name(index: int, shard_format: str) -> str:
    return f"shard-{index:06d}.{shard_format}"


def pipeline_dir(model: str) -> Optional[Path]:
    """The folder a pipeline loads from: the path itself, or an installed package's folder."""
    path = Path(model)
    if path.is_dir():
        return path
    import spacy.util

    if spacy.util.is_package(model):
        return Path(spacy.util.get_package_path(model))
    return None


def pipeline_identity(model: str) -> Dict:
    """Name, version and a fingerprint of the pipeline's files (config, weights, vocab, code),
    computed without loading it, so that the driver and every node can compare theirs."""
    folder = pipeline_dir(model)
    if folder is None:
        raise ManifestError(
            f"cannot find pipeline {model!r} on this machine: pass the name of an installed "
            "pipeline package or the path of a pipeline folder (every node must have the same)"
        )
    digest = hashlib.sha256()
    meta: Dict = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if "__pycache__" in rel.parts or path.suffix == ".pyc":
            continue
        digest.update(rel.as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
        if path.name == "meta.json" and (not meta or len(rel.parts) == 1):
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                meta = {}
    return {
        "model": model,
        "name": f"{meta.get('lang', '')}_{meta.get('name', '')}".strip("_") or None,
        "version": meta.get("version"),
        "fingerprint": digest.hexdigest(),
    }


def write_json_atomic(path: Path, value: Dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as file:
        json.dump(value, file, indent=1, ensure_ascii=True)
        file.write("\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def load_manifest(folder: Path) -> Optional[Dict]:
    path = Path(folder) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ManifestError(f"{path} is not a manifest this command wrote ({err}); use --overwrite") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path} is not a manifest this command wrote; use --overwrite")
    return manifest


#: Keys of the manifest that must be equal for a resume; anything else (the number of
#: actors, the cluster, the completion flag) may change between runs.
COMPARED = ("inputs", "input_files", "n_records", "shard_size", "shard_format", "pipeline", "options")


def differences(old: Dict, new: Dict) -> List[str]:
    """What differs between the manifest of an output and this run's (empty: it may resume)."""
    from ..cli.manifest import record_differences

    # How records are made (the record schema and the field names of text and ids), as for one machine.
    out: List[str] = record_differences(old.get("records"), new.get("records") or {}) if "records" in new else []
    for key in COMPARED:
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub) != b.get(sub):
                    out.append(f"{key}.{sub}: {a.get(sub)!r} in the output, {b.get(sub)!r} now")
        elif key == "input_files":
            out.append("input files (names or sizes) differ from those the output was made from")
        else:
            out.append(f"{key}: {a!r} in the output, {b!r} now")
    if not out and [s["ids"] for s in old.get("shards", [])] != [s["ids"] for s in new["shards"]]:
        out.append("record ids differ from those the output was made from")
    return out
