"""``scicls annotate``: annotate a corpus of papers or records with a spaCy pipeline.

    scicls annotate papers/ --output annotations.jsonl
    python -m spacy_scicls annotate awards.csv --text-columns AwardTitle,AwardAbstract \\
        --id-column AwardID --output awards_labelled.csv --model PIPELINE

Exit status: 0 when every record was annotated, 1 when the run finished but some
records failed (each has an output record with ``error`` set; the summary
counts them by reason), 2 when the run could not start (bad arguments, a
pipeline that does not load, an output that exists without --resume or
--overwrite, a --resume on an output made from other inputs) or stopped on an
input that broke off mid-run (everything before it is written: fix it and --resume).
"""
import sys
from pathlib import Path
from typing import List, Optional

import typer

from . import DEFAULT_MODEL
from .formats import INPUT_FORMATS

# spaCy and torch take seconds to import: the modules that need them are imported
# when a command runs, so that `scicls --help` answers at once.

EXIT_OK = 0
EXIT_RECORDS_FAILED = 1
EXIT_CANNOT_RUN = 2

app = typer.Typer(
    name="scicls",
    help="spacy_scicls: annotate scientific papers and awards with sections, categories and entities.",
    add_completion=False,
    no_args_is_help=True,
)


@app.callback()
def _main() -> None:
    """spacy_scicls command line."""


class CannotRun(Exception):
    pass


def load_pipeline(name: str, gpu_id: int = -1):
    """Load a spaCy pipeline by package name or path, with a clear error when it is not there."""
    import spacy

    import spacy_scicls

    spacy_scicls._register_all()  # the components of saved scicls pipelines

    try:  # the transformer reads long papers in windows: the tokenizer's length warning does not apply
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass

    if gpu_id >= 0:
        try:
            spacy.require_gpu(gpu_id)
        except Exception as err:  # noqa: BLE001
            raise CannotRun(f"cannot use GPU {gpu_id}: {err}") from None
    try:
        return spacy.load(name)
    except OSError as err:
        if name == DEFAULT_MODEL:
            raise CannotRun(
                f"the default pipeline {DEFAULT_MODEL!r} is not installed. Install it from the repository "
                f"(`pip install packages/{DEFAULT_MODEL}-<version>`; `make` does it), or pass --model with "
                "the name or path of another spaCy pipeline."
            ) from None
        raise CannotRun(f"cannot load pipeline {name!r}: {err}") from None


def pipeline_taxonomies(nlp) -> tuple:
    """Taxonomies whose decisions the pipeline writes (with their roll-ups), and those with a certainty."""
    labels: List[str] = []
    certainty: List[str] = []
    for _, pipe in nlp.pipeline:
        taxonomy = getattr(pipe, "taxonomy", None)
        name = getattr(taxonomy, "name", None)
        if not name:
            continue
        for t in (name, getattr(taxonomy, "group_taxonomy", None)):
            if t and t not in labels:
                labels.append(t)
        if name not in certainty:
            certainty.append(name)
    return labels, certainty


def make_writer(path: Path, nlp):
    from .outputs import CsvWriter, DocBinWriter, JsonlWriter, output_format

    fmt = output_format(path)
    if fmt == "jsonl":
        return JsonlWriter(path)
    if fmt == "csv":
        labels, certainty = pipeline_taxonomies(nlp)
        return CsvWriter(path, labels, certainty)
    return DocBinWriter(path, nlp.vocab)


def _columns(value: Optional[str]) -> Optional[List[str]]:
    if not value:
        return None
    columns = [c.strip() for c in value.split(",") if c.strip()]
    return columns or None


@app.command("annotate")
def annotate_command(
    inputs: List[str] = typer.Argument(
        ..., help="Files, folders or globs: .txt/.md papers, JATS or TEI XML, S2ORC/unarXive JSON(L), JSONL records, CSV, Parquet."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Output file: .jsonl (default contract), .csv or .spacy."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Name or path of a spaCy pipeline."),
    batch_size: int = typer.Option(32, "--batch-size", "-b", min=1, help="Documents per batch (and per output write)."),
    n_process: int = typer.Option(1, "--n-process", "-n", min=1, help="Worker processes (CPU)."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU to run on; -1 for CPU."),
    format: Optional[str] = typer.Option(
        None, "--format", "-f", help=f"Input format, instead of detecting it: {', '.join(INPUT_FORMATS)}."
    ),
    text_columns: Optional[str] = typer.Option(
        None, "--text-columns", help="Comma-separated text columns of CSV/JSONL records, joined in order (e.g. AwardTitle,AwardAbstract)."
    ),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="Id column of CSV/JSONL records."),
    no_text: bool = typer.Option(False, "--no-text", help="Leave the text out of JSONL records."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run's output."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    max_chars: Optional[int] = typer.Option(
        None, "--max-chars", min=1, help="Longest text annotated, in characters (default: the pipeline's max_length)."
    ),
    threads: int = typer.Option(
        0, "--threads", min=0, help="Torch threads per process (0: torch's default; --n-process > 1 uses 1)."
    ),
    log_interval: float = typer.Option(30.0, "--log-interval", help="Seconds between progress lines when not on a terminal."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output (the summary is still printed)."),
    engine: str = typer.Option(
        "local", "--engine", help="local (this machine) or ray (a Ray cluster; --output is then a folder of shards)."
    ),
    address: Optional[str] = typer.Option(
        None, "--address", help="Ray cluster to run on (e.g. auto, ray://head:10001); none: a local Ray for the run."
    ),
    actors: int = typer.Option(1, "--actors", min=1, help="Ray actors, each with its own copy of the pipeline."),
    gpus_per_actor: float = typer.Option(0.0, "--gpus-per-actor", min=0.0, help="GPUs per Ray actor (0: CPU)."),
    shard_size: int = typer.Option(
        512, "--shard-size", min=1, help="Records per output shard with --engine ray (a multiple of --batch-size)."
    ),
    shard_format: str = typer.Option("jsonl", "--shard-format", help="Shard files with --engine ray: jsonl or parquet."),
) -> None:
    """Annotate a corpus: one output record per input record, in input order; never loses a record."""
    from .inputs import InputError
    from .outputs import OutputError

    if engine == "ray":
        from .ray_command import run_ray_command

        raise typer.Exit(
            run_ray_command(
                inputs, output, model=model, address=address, actors=actors, gpus_per_actor=gpus_per_actor,
                threads=threads or 1, batch_size=batch_size, shard_size=shard_size, shard_format=shard_format,
                format=format, text_columns=_columns(text_columns), id_column=id_column, include_text=not no_text,
                max_chars=max_chars, resume=resume, overwrite=overwrite, quiet=quiet, log_interval=log_interval,
                n_process=n_process, gpu_id=gpu_id,
            )
        )
    if engine != "local":
        typer.echo(f"scicls annotate: error: unknown engine {engine!r}; use local or ray", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    if address or actors != 1 or gpus_per_actor or shard_size != 512 or shard_format != "jsonl":
        typer.echo(
            "scicls annotate: error: --address, --actors, --gpus-per-actor, --shard-size and --shard-format "
            "are for --engine ray",
            err=True,
        )
        raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        code = run_annotate(
            inputs,
            output,
            model=model,
            batch_size=batch_size,
            n_process=n_process,
            gpu_id=gpu_id,
            format=format,
            text_columns=_columns(text_columns),
            id_column=id_column,
            include_text=not no_text,
            resume=resume,
            overwrite=overwrite,
            max_chars=max_chars,
            threads=threads,
            log_interval=log_interval,
            quiet=quiet,
        )
    except (CannotRun, InputError, OutputError) as err:
        typer.echo(f"scicls annotate: error: {err}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    raise typer.Exit(code)


def run_annotate(
    inputs: List[str],
    output: Path,
    *,
    model: str = DEFAULT_MODEL,
    batch_size: int = 32,
    n_process: int = 1,
    gpu_id: int = -1,
    format: Optional[str] = None,
    text_columns: Optional[List[str]] = None,
    id_column: Optional[str] = None,
    include_text: bool = True,
    resume: bool = False,
    overwrite: bool = False,
    max_chars: Optional[int] = None,
    threads: int = 0,
    log_interval: float = 30.0,
    quiet: bool = False,
) -> int:
    """The command without its argument parsing; returns the exit status."""
    from .inputs import check_inputs, count_records, iter_records
    from .outputs import output_exists, output_format
    from .progress import Progress
    from .run import annotate_records
    from ..threads import set_cpu_threads

    if resume and overwrite:
        raise CannotRun("--resume and --overwrite exclude each other")
    if gpu_id >= 0 and n_process > 1:
        raise CannotRun("--n-process > 1 runs on CPU; use one process with --gpu-id")
    output_format(output)
    # The output, its parts and its temporary file are never inputs, even inside an input folder.
    exclude = [output, output.with_name(output.name + ".parts"), output.with_name(output.name + ".tmp")]
    _, skipped = check_inputs(
        inputs, format=format, text_columns=text_columns, id_column=id_column, exclude=exclude
    )
    if output_exists(output) and not (resume or overwrite):
        raise CannotRun(f"{output} exists: pass --resume to continue it or --overwrite to replace it")
    nlp = load_pipeline(model, gpu_id)
    writer = make_writer(output, nlp)
    if n_process > 1 or threads > 0:
        # Forked workers hang in torch's thread pool unless it has one thread;
        # numpy's BLAS (the heads) gets the same count, so that workers do not
        # oversubscribe the cores.
        set_cpu_threads(1 if n_process > 1 else threads)
    if skipped:
        typer.echo(
            f"scicls annotate: skipping {len(skipped)} file(s) of unknown type in the input folders, "
            f"e.g. {skipped[0]}",
            err=True,
        )
    records = iter_records(
        inputs,
        format=format,
        text_columns=text_columns,
        id_column=id_column,
        max_chars=max_chars or nlp.max_length,
        exclude=exclude,
    )
    progress = Progress(count_records(inputs, format=format, exclude=exclude), interval=log_interval, enabled=not quiet)
    # A resumed run starts on a batch boundary, so that its batches are those of an uninterrupted run.
    done_ids = writer.open(resume=resume, align=batch_size)
    complete = False
    try:
        summary = annotate_records(
            nlp,
            records,
            writer,
            done_ids=done_ids,
            batch_size=batch_size,
            n_process=n_process,
            include_text=include_text,
            max_chars=max_chars,
            progress=progress,
        )
        complete = True
    finally:
        writer.close(complete=complete)
    for line in summary.lines():
        typer.echo(line, err=True)
    typer.echo(f"scicls annotate: output {output}", err=True)
    return EXIT_RECORDS_FAILED if summary.failed else EXIT_OK


def main(argv: Optional[List[str]] = None) -> None:
    app(args=argv, prog_name="scicls")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
