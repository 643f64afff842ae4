"""``scicls annotate --engine ray``: the command's side of :func:`spacy_scicls.distributed.annotate`
(option checks, messages and exit status as for the single-machine command)."""
from pathlib import Path
from typing import List

import typer

EXIT_OK, EXIT_RECORDS_FAILED, EXIT_CANNOT_RUN = 0, 1, 2


def _fail(message: str) -> int:
    typer.echo(f"scicls annotate: error: {message}", err=True)
    return EXIT_CANNOT_RUN


def run_ray_command(inputs: List[str], output: Path, *, n_process: int, gpu_id: int, quiet: bool, **options) -> int:
    """Run on Ray and print the summary; returns the exit status."""
    if n_process != 1 or gpu_id != -1:
        return _fail("--n-process and --gpu-id are for --engine local; with --engine ray use --actors and --gpus-per-actor")
    if output.suffix.lower() in (".jsonl", ".csv", ".spacy", ".parquet"):
        return _fail(f"with --engine ray, --output is a folder of shard files (got {output.name}); see --shard-format")
    try:
        from ..distributed import EngineError, ManifestError, annotate
    except ImportError as err:  # pragma: no cover - the package itself is importable without Ray
        return _fail(str(err))
    from .inputs import InputError

    try:
        summary = annotate(inputs, output, quiet=quiet, **options)
    except (EngineError, ManifestError, InputError) as err:
        return _fail(str(err))
    for line in summary.lines():
        typer.echo(line, err=True)
    typer.echo(f"scicls annotate: output {output} (manifest.json and shard files)", err=True)
    return EXIT_RECORDS_FAILED if summary.failed else EXIT_OK
