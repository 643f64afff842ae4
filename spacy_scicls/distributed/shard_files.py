"""Shard files: the records of one shard, as JSONL or Parquet, written whole and renamed.

A JSONL shard holds exactly the lines ``scicls annotate --output x.jsonl`` writes
for the same records. A Parquet shard holds the same records as columns (``cats``
and ``certainty`` as maps, ``labels`` as a map of lists, ``sections`` and ``ents``
as lists of structs); :func:`read_records` gives back the same dicts from either.
"""
import json
import os
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from ..cli.durable import fsync_dir
from .manifest import MANIFEST_NAME, load_manifest


def _parquet_schema(include_text: bool):
    import pyarrow as pa

    span = [("start_char", pa.int64()), ("end_char", pa.int64()), ("label", pa.string())]
    fields = [("id", pa.string())]
    if include_text:
        fields.append(("text", pa.string()))
    fields += [
        ("sections", pa.list_(pa.struct(span + [("heading", pa.string()), ("score", pa.float64())]))),
        ("cats", pa.map_(pa.string(), pa.float64())),
        ("labels", pa.map_(pa.string(), pa.list_(pa.string()))),
        ("certainty", pa.map_(pa.string(), pa.float64())),
        ("ents", pa.list_(pa.struct(span + [("text", pa.string()), ("score", pa.float64())]))),
        ("error", pa.string()),
    ]
    return pa.schema(fields)


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as file:
        write(file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_shard(path: Path, data: bytes, shard_format: str, include_text: bool) -> None:
    """Write a shard from its JSONL lines (``data``), as JSONL or Parquet."""
    if shard_format == "jsonl":
        _atomic_write(path, lambda file: file.write(data))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = [json.loads(line) for line in data.decode("utf-8").splitlines()]
    table = pa.Table.from_pylist(records, schema=_parquet_schema(include_text))
    _atomic_write(path, lambda file: pq.write_table(table, file))


def read_shard(path: Path, shard_format: str) -> List[Dict]:
    """The records of a shard file, as the JSONL command writes them (dicts, keys in order)."""
    if shard_format == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    import pyarrow.parquet as pq

    records = pq.read_table(path).to_pylist()
    for record in records:
        for key in ("cats", "labels", "certainty"):
            record[key] = dict(record[key] or [])
    return records


def read_shard_ids(path: Path, shard_format: str) -> Optional[List[str]]:
    """The ids of a shard file, or None when it cannot be read (it is done again)."""
    try:
        if shard_format == "jsonl":
            with path.open("rb") as file:
                return [str(json.loads(line)["id"]) for line in file]
        import pyarrow.parquet as pq

        return [str(v) for v in pq.read_table(path, columns=["id"]).column("id").to_pylist()]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_records(folder: Path) -> Iterator[Dict]:
    """Every record of a sharded output, in input order (shard by shard, as the manifest lists them)."""
    folder = Path(folder)
    manifest = load_manifest(folder)
    if manifest is None:
        raise FileNotFoundError(f"{folder / MANIFEST_NAME} not found: not a sharded output")
    for shard in manifest["shards"]:
        yield from read_shard(folder / shard["file"], manifest["shard_format"])
