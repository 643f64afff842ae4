"""The driver of a Ray run: plan the shards, hand them to a Ray Data actor pool, write what comes back.

1. The inputs are read in order by the same readers as ``scicls annotate``
   (:func:`spacy_scicls.cli.inputs.iter_records`): one record per input record,
   error records included. They are cut into shards of ``shard_size`` records
   (a multiple of ``batch_size``, so that every pipeline batch is the one the
   single-machine command makes, and gives the same floats).
2. ``manifest.json`` records the inputs, the pipeline (its files' fingerprint)
   and the options that change records, and every shard with a digest of its ids.
   ``--resume`` compares, refuses what differs, and skips the shards whose files
   are complete.
3. The remaining shards go into a Ray Dataset (one row per shard: the records,
   pickled; a paper file travels as its path, read on the node), and
   ``map_batches`` runs :class:`~spacy_scicls.distributed.actor.ShardAnnotator`
   in a fixed pool of actors (``concurrency=actors``, ``num_gpus=gpus_per_actor``).
   Ray Data restarts an actor whose process dies and runs its shards again.
4. The driver writes each shard's file as it comes back (whole, then renamed).
"""
import fcntl
import inspect
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union

from ..cli import DEFAULT_MODEL
from ..cli.inputs import Record, check_inputs, iter_records
from ..cli.manifest import record_rules
from ..cli.progress import Progress
from ..cli.run import Summary, error_kind
from .manifest import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    SHARD_FORMATS,
    ManifestError,
    differences,
    ids_digest,
    load_manifest,
    pipeline_identity,
    shard_file_name,
    write_json_atomic,
)
from .shard_files import read_records, read_shard_ids, write_shard

RAY_MISSING = 'annotating on Ray needs Ray: pip install "spacy_scicls[ray]" (or pip install "ray[data]")'
LOCK_NAME = ".lock"


class EngineError(RuntimeError):
    """The Ray run cannot start or was stopped (finished shards are kept: ``--resume`` goes on)."""


def require_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise EngineError(RAY_MISSING) from None
    return ray


def default_max_chars() -> int:
    """spaCy's default ``max_length``: what the single-machine command uses for a pipeline that keeps it."""
    from spacy.language import Language

    return int(inspect.signature(Language.__init__).parameters["max_length"].default)


@dataclass
class Shard:
    index: int
    first: int
    ids: List[str]
    payload: Optional[bytes]  # the shard's records, pickled; None once the shard is known to be done


def plan_shards(records: Iterable[Record], shard_size: int) -> Iterator[Shard]:
    """Cut ``records`` into shards of ``shard_size`` records, in order."""
    from ray import cloudpickle

    chunk: List[Record] = []
    index = first = 0

    def make() -> Shard:
        return Shard(index, first, [r.id for r in chunk], cloudpickle.dumps(chunk))

    for record in records:
        chunk.append(record)
        if len(chunk) == shard_size:
            yield make()
            index, first, chunk = index + 1, first + shard_size, []
    if chunk:
        yield make()


class OutputFolder:
    """The output folder of a run: its lock, its manifest and its shard files."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = None

    def our_files(self) -> List[Path]:
        names = [MANIFEST_NAME, MANIFEST_NAME + ".tmp"]
        found = [self.path / n for n in names if (self.path / n).exists()]
        found += sorted(self.path.glob("shard-*.jsonl*")) + sorted(self.path.glob("shard-*.parquet*"))
        return found

    def lock(self) -> None:
        """An exclusive lock for this run: a second run on the same folder is refused."""
        self.path.mkdir(parents=True, exist_ok=True)
        if not os.access(self.path, os.W_OK):
            raise ManifestError(f"cannot write to the output folder {self.path}")
        self._lock = (self.path / LOCK_NAME).open("a")
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise ManifestError(f"another run is writing {self.path}") from None

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def clear(self) -> None:
        """Remove the files of an earlier run (and only those: the folder may hold others)."""
        for path in self.our_files():
            path.unlink()

    def remove_partial_files(self) -> None:
        """Remove what a stopped run left half written (shard and manifest files, named ``*.tmp``)."""
        for path in sorted(self.path.glob("*.tmp")):
            path.unlink(missing_ok=True)


def _new_manifest(inputs, files, shards: List[Shard], n_records, shard_size, shard_format, pipeline, options) -> Dict:
    return {
        "format": MANIFEST_FORMAT,
        "inputs": [str(i) for i in inputs],
        "input_files": [{"path": str(p), "bytes": p.stat().st_size} for p in files],
        "n_records": n_records,
        "shard_size": shard_size,
        "shard_format": shard_format,
        "pipeline": pipeline,
        "options": options,
        # The input files' sizes and each shard's ids say whether the inputs are the same; this, whether
        # the code makes records from them the same way.
        "records": record_rules(),
        "shards": [
            {"file": shard_file_name(s.index, shard_format), "first": s.first, "records": len(s.ids), "ids": ids_digest(s.ids)}
            for s in shards
        ],
        "complete": False,
    }


def _start_ray(ray, address: Optional[str], object_store_memory: Optional[int]) -> bool:
    """Connect to the cluster at ``address``, or start a local Ray; True when this call started it."""
    if ray.is_initialized():
        return False
    if address:
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except Exception as err:  # noqa: BLE001 - whatever Ray raises for an unreachable cluster
            raise EngineError(f"cannot connect to the Ray cluster at {address}: {err}") from None
    else:
        ray.init(
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
            object_store_memory=object_store_memory,
        )
    return True


def _check_resources(ray, actors: int, threads: int, gpus_per_actor: float, strict: bool) -> None:
    """A fixed pool that the cluster can never hold would wait for ever: say so instead."""
    total = ray.cluster_resources()
    need = {"CPU": actors * threads, "GPU": actors * gpus_per_actor}
    short = [f"{need[k]:g} {k}s ({total.get(k, 0):g} in the cluster)" for k in need if need[k] > total.get(k, 0)]
    if short:
        message = f"{actors} actor(s) need {' and '.join(short)}: lower --actors, --threads or --gpus-per-actor"
        if strict:
            raise EngineError(message)
        logging.getLogger(__name__).warning("%s (waiting for the cluster to grow)", message)


def annotate(
    inputs: Union[str, Sequence[str]],
    output: Optional[Union[str, Path]] = None,
    *,
    model: str = DEFAULT_MODEL,
    address: Optional[str] = None,
    actors: int = 1,
    gpus_per_actor: float = 0.0,
    threads: int = 1,
    batch_size: int = 32,
    shard_size: int = 512,
    shard_format: str = "jsonl",
    format: Optional[str] = None,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    include_text: bool = True,
    max_chars: Optional[int] = None,
    resume: bool = False,
    overwrite: bool = False,
    object_store_memory: Optional[int] = None,
    quiet: bool = True,
    log_interval: float = 30.0,
) -> Union[List[Dict], Summary]:
    """Annotate ``inputs`` on Ray with a pool of ``actors`` actors, each holding the pipeline ``model``.

    With ``output`` (a folder), the records are written there as shard files with a
    manifest, and the run's :class:`~spacy_scicls.cli.run.Summary` is returned; without,
    the records are returned as a list of dicts, in input order (for notebooks).
    ``address`` names a running cluster (``"auto"``, ``"ray://head:10001"``, ...); without
    it a Ray already started in this process is used, else a local one is started for
    the run and stopped after. Raises :class:`EngineError`, :class:`ManifestError` and
    the input errors of the single-machine command; a run that stops keeps its
    finished shards (run it again with ``resume=True``).
    """
    if isinstance(inputs, (str, Path)):
        inputs = [str(inputs)]
    inputs = [str(i) for i in inputs]
    if output is None:
        if resume:
            raise EngineError("resume needs an output folder")
        with tempfile.TemporaryDirectory(prefix="scicls-ray-") as tmp:
            annotate(
                inputs, Path(tmp) / "out", model=model, address=address, actors=actors, gpus_per_actor=gpus_per_actor,
                threads=threads, batch_size=batch_size, shard_size=shard_size, shard_format="jsonl", format=format,
                text_columns=text_columns, id_column=id_column, include_text=include_text, max_chars=max_chars,
                object_store_memory=object_store_memory, quiet=quiet, log_interval=log_interval,
            )
            return list(read_records(Path(tmp) / "out"))

    if resume and overwrite:
        raise EngineError("--resume and --overwrite exclude each other")
    if actors < 1 or threads < 1 or batch_size < 1 or gpus_per_actor < 0:
        raise EngineError("--actors, --threads and --batch-size must be at least 1, --gpus-per-actor at least 0")
    if shard_size < batch_size or shard_size % batch_size:
        raise EngineError(
            f"--shard-size ({shard_size}) must be a multiple of --batch-size ({batch_size}), so that the "
            "pipeline's batches are those of the single-machine command"
        )
    if shard_format not in SHARD_FORMATS:
        raise EngineError(f"unknown shard format {shard_format!r}; use one of {', '.join(SHARD_FORMATS)}")
    ray = require_ray()
    if shard_format == "parquet":
        try:
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise EngineError(RAY_MISSING) from None

    folder = OutputFolder(Path(output))
    exclude = [folder.path]
    files, skipped = check_inputs(inputs, format=format, text_columns=text_columns, id_column=id_column, exclude=exclude)
    if folder.path.exists() and not folder.path.is_dir():
        raise ManifestError(f"{folder.path} is a file: the output of --engine ray is a folder")
    existing = folder.path.exists() and any(folder.path.iterdir())
    if existing and not (resume or overwrite):
        raise ManifestError(f"{folder.path} exists and is not empty: pass --resume to continue it or --overwrite to replace it")
    pipeline = pipeline_identity(model)
    max_chars = max_chars or default_max_chars()
    options = {
        "batch_size": batch_size,
        "include_text": include_text,
        "max_chars": max_chars,
        "format": format,
        "text_columns": list(text_columns) if text_columns else None,
        "id_column": id_column,
        "threads": threads,  # torch's thread count can change the last bits of a float
    }
    folder.lock()
    try:
        return _run(
            ray, folder, inputs, files, skipped, exclude, pipeline, options, model=model, address=address,
            actors=actors, gpus_per_actor=gpus_per_actor, threads=threads, batch_size=batch_size,
            shard_size=shard_size, shard_format=shard_format, format=format, text_columns=text_columns,
            id_column=id_column, include_text=include_text, max_chars=max_chars, resume=resume,
            overwrite=overwrite, object_store_memory=object_store_memory, quiet=quiet, log_interval=log_interval,
        )
    finally:
        folder.unlock()


def _run(ray, folder: OutputFolder, inputs, files, skipped, exclude, pipeline, options, **kw) -> Summary:
    started = time.perf_counter()
    records = iter_records(
        inputs, format=kw["format"], text_columns=kw["text_columns"], id_column=kw["id_column"],
        max_chars=kw["max_chars"], exclude=exclude,
    )
    shards = list(plan_shards(records, kw["shard_size"]))
    n_records = sum(len(s.ids) for s in shards)
    manifest = _new_manifest(inputs, files, shards, n_records, kw["shard_size"], kw["shard_format"], pipeline, options)

    old = load_manifest(folder.path) if kw["resume"] else None
    if old is not None:
        diff = differences(old, manifest)
        if diff:
            raise ManifestError(
                f"{folder.path} was made from other inputs, pipeline or options ({'; '.join(diff)}): "
                "use --overwrite to start again"
            )
    elif kw["resume"] and folder.our_files():
        raise ManifestError(f"{folder.path} has shard files but no manifest: use --overwrite to start again")
    if kw["overwrite"] or old is None:
        folder.clear()
    folder.remove_partial_files()

    summary = Summary()
    todo: List[Shard] = []
    for shard, entry in zip(shards, manifest["shards"]):
        ids = read_shard_ids(folder.path / entry["file"], kw["shard_format"]) if old is not None else None
        if ids == shard.ids:
            summary.skipped += len(ids)
            shard.payload = None
        else:
            todo.append(shard)
    write_json_atomic(folder.path / MANIFEST_NAME, manifest)
    if skipped and not kw["quiet"]:
        logging.getLogger(__name__).warning("skipping %d file(s) that are not papers, e.g. %s", len(skipped), skipped[0])

    progress = Progress(n_records, interval=kw["log_interval"], enabled=not kw["quiet"])
    progress.start(skipped=summary.skipped)
    try:
        if todo:
            _annotate_on_ray(ray, folder, todo, summary, progress, manifest, **kw)
    finally:
        progress.close()
        summary.seconds = time.perf_counter() - started
    manifest["complete"] = True
    write_json_atomic(folder.path / MANIFEST_NAME, manifest)
    return summary


def _annotate_on_ray(ray, folder: OutputFolder, todo: List[Shard], summary: Summary, progress, manifest, **kw) -> None:
    from .actor import ShardAnnotator

    started_here = _start_ray(ray, kw["address"], kw["object_store_memory"])
    try:
        _check_resources(ray, kw["actors"], kw["threads"], kw["gpus_per_actor"], strict=started_here)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the command has its own progress line
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        # One row per shard, one block per row: a shard is the unit that an actor takes and
        # that Ray retries when the actor dies.
        dataset = ray.data.from_items(
            [{"shard": s.index, "payload": s.payload} for s in todo], override_num_blocks=len(todo)
        )
        for shard in todo:
            shard.payload = None  # the dataset holds them now (in the object store)
        annotated = dataset.map_batches(
            ShardAnnotator,
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=kw["actors"]),
            num_cpus=kw["threads"],
            num_gpus=kw["gpus_per_actor"] or None,
            fn_constructor_kwargs={
                "model": kw["model"],
                "fingerprint": manifest["pipeline"]["fingerprint"],
                "batch_size": kw["batch_size"],
                "include_text": kw["include_text"],
                "max_chars": kw["max_chars"],
                "threads": kw["threads"],
                "use_gpu": kw["gpus_per_actor"] > 0,
            },
        )
        entries = manifest["shards"]
        try:
            for row in annotated.iter_rows():
                entry = entries[int(row["shard"])]
                data = bytes(row["data"])
                write_shard(folder.path / entry["file"], data, kw["shard_format"], kw["include_text"])
                summary.annotated += int(row["annotated"])
                summary.failed += int(row["failed"])
                for kind, n in json.loads(row["errors"]).items():
                    summary.errors[error_kind(kind)] += n
                progress.advance(entry["records"], failed=int(row["failed"]))
        except (KeyboardInterrupt, ManifestError, OSError):
            raise
        except Exception as err:  # noqa: BLE001 - Ray's errors wrap the actor's own
            raise EngineError(
                f"the Ray run stopped: {_root_message(err)}. Every finished shard is kept in {folder.path}: "
                "fix the cause and run the same command with --resume"
            ) from err
    finally:
        if started_here:
            ray.shutdown()


def _root_message(err: BaseException) -> str:
    """The actor's own message inside a Ray error (Ray wraps it in its traceback), else the last line."""
    from .actor import ACTOR_ERROR

    chain = [err]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    for e in chain:
        for line in str(e).splitlines():
            if ACTOR_ERROR in line:
                return line[line.index(ACTOR_ERROR):].strip()
    lines = str(err).strip().splitlines()
    return lines[-1] if lines else type(err).__name__
