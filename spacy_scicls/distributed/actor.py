"""The Ray Data actor: loads the pipeline once and annotates one shard per call.

Ray Data runs this callable class in a fixed pool of actors
(``Dataset.map_batches(ShardAnnotator, concurrency=N, num_gpus=...)``). A shard
is annotated by the single-machine loop (:func:`spacy_scicls.cli.run.annotate_records`):
the same batches of ``batch_size`` records (shards start on batch boundaries),
the same error records, the same retry of a batch one record at a time when the
pipeline raises, so the lines are those ``scicls annotate`` writes.
"""
import json
import socket
from collections import Counter
from pathlib import Path
from typing import Dict, List

import numpy

from ..cli.outputs import JsonlWriter
from .manifest import pipeline_identity

#: How an actor's own errors begin, so that the driver finds them inside Ray's wrapping of them.
ACTOR_ERROR = "scicls actor on node"


class _LinesWriter(JsonlWriter):
    """Collects the JSONL lines of a shard in memory, serialised as the JSONL writer does."""

    def __init__(self):
        super().__init__(Path("-"))
        self.lines: List[bytes] = []

    def write_batch(self, items) -> None:
        for record, doc in items:
            line = self.record_line(record, doc)
            try:
                data = line.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate (in an id): escaped, so the line stays UTF-8
                data = (json.dumps(record, ensure_ascii=True) + "\n").encode("utf-8")
            self.lines.append(data)


class ShardAnnotator:
    """One pipeline per actor; ``__call__`` takes a batch of shards and returns their lines."""

    def __init__(
        self,
        model: str,
        fingerprint: str,
        *,
        batch_size: int,
        include_text: bool,
        max_chars: int,
        threads: int,
        use_gpu: bool,
    ):
        from ..cli.app import CannotRun, load_pipeline
        from ..threads import set_cpu_threads

        node = f"{ACTOR_ERROR} {socket.gethostname()}"
        # One torch and BLAS thread per CPU that Ray gave the actor: actors side by side
        # on a node would otherwise each start a thread per core.
        set_cpu_threads(threads)
        try:
            found = pipeline_identity(model)["fingerprint"]
        except ValueError as err:
            raise RuntimeError(f"{node}: {err}") from None
        if found != fingerprint:
            raise RuntimeError(
                f"{node}: pipeline {model!r} differs from the driver's (files fingerprint "
                f"{found[:12]} here, {fingerprint[:12]} on the driver): install the same pipeline on every node"
            )
        try:
            # Ray gives a GPU actor its own device, visible to it as GPU 0.
            self.nlp = load_pipeline(model, 0 if use_gpu else -1)
        except CannotRun as err:
            raise RuntimeError(f"{node}: {err}") from None
        except Exception as err:  # noqa: BLE001 - a config or package the node cannot load
            raise RuntimeError(f"{node}: cannot load pipeline {model!r}: {type(err).__name__}: {err}") from None
        self.batch_size = batch_size
        self.include_text = include_text
        self.max_chars = max_chars

    def annotate_shard(self, records) -> Dict:
        from ..cli.run import annotate_records

        writer = _LinesWriter()
        # Strings that the shard's docs add to the vocab are dropped after it, so that a
        # long-lived actor does not grow with the corpus.
        with self.nlp.memory_zone():
            summary = annotate_records(
                self.nlp,
                iter(records),
                writer,
                batch_size=self.batch_size,
                include_text=self.include_text,
                max_chars=self.max_chars,
            )
        return {
            "data": b"".join(writer.lines),
            "annotated": summary.annotated,
            "failed": summary.failed,
            "errors": json.dumps(dict(Counter(summary.errors))),
        }

    def __call__(self, batch: Dict[str, numpy.ndarray]) -> Dict[str, numpy.ndarray]:
        from ray import cloudpickle

        out: Dict[str, list] = {"shard": [], "data": [], "annotated": [], "failed": [], "errors": []}
        for shard, payload in zip(batch["shard"], batch["payload"]):
            result = self.annotate_shard(cloudpickle.loads(payload))
            out["shard"].append(int(shard))
            for key in ("data", "annotated", "failed", "errors"):
                out[key].append(result[key])
        return {
            "shard": numpy.array(out["shard"], dtype=numpy.int64),
            "data": numpy.array(out["data"], dtype=object),
            "annotated": numpy.array(out["annotated"], dtype=numpy.int64),
            "failed": numpy.array(out["failed"], dtype=numpy.int64),
            "errors": numpy.array(out["errors"], dtype=object),
        }
