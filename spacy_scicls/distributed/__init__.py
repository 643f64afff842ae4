"""Annotation on Ray: ``scicls annotate --engine ray`` and :func:`annotate`.

The corpus is cut into shards of records; a Ray Data actor pool (one pipeline per
actor, on CPU or one GPU each) annotates them with the single-machine command's
loop, and the driver writes one file per shard beside a manifest, so that
``--resume`` skips finished shards. Ray is an optional extra
(``pip install "spacy_scicls[ray]"``): importing this package does not import it.
See docs/distributed.md.
"""
from .engine import RAY_MISSING, EngineError, annotate
from .manifest import ManifestError
from .shard_files import read_records

__all__ = ["RAY_MISSING", "EngineError", "ManifestError", "annotate", "read_records"]
