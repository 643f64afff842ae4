"""``scicls annotate``: annotate a corpus of papers or records with a spaCy pipeline.

    scicls annotate papers/ --output annotations.jsonl
    python -m spacy_scicls annotate awards.csv --text-columns AwardTitle,AwardAbstract \\
        --id-column AwardID --output awards_labelled.csv --model PIPELINE

Exit status: 0 when every record was annotated, 1 when the run finished but some
records failed (each has an output record with ``error`` set; the summary
counts them by reason), 2 when the run could not start (bad arguments, a
pipeline that does not load, an output that exists without --resume or
--overwrite, an output that another run is writing, a --resume on an output
made by another pipeline, other options or other inputs) or stopped on an input
that broke off or an output that could not be written (a full disk) mid-run,
130 on Ctrl-C and 143 on SIGTERM. Whenever it stops, the output holds complete
records only, a prefix of what the whole run writes: fix what stopped it and
run the same command with --resume.
"""
import os
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import List, Optional, Sequence

import typer

from . import DEFAULT_MODEL
from .formats import INPUT_FORMATS
from .lock import OutputLock, OutputLocked, lock_path
from .manifest import (
    ManifestMismatch,
    RecordOptions,
    check_resume,
    commit_manifest,
    make_manifest,
    manifest_path,
    record_rules,
    stage_manifest,
)
from .workers import Terminated, tied_workers

# spaCy and torch take seconds to import: the modules that need them are imported
# when a command runs, so that `scicls --help` answers at once.

EXIT_OK = 0
EXIT_RECORDS_FAILED = 1
EXIT_CANNOT_RUN = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM

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
    """Load a spaCy pipeline by package name or path, with a clear error when it is not there; its tokenizer
    reads long runs of punctuation in pieces (:mod:`spacy_scicls.run_splitting`)."""
    import spacy

    import spacy_scicls  # noqa: F401 - registers the components of saved scicls pipelines

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
    from ..run_splitting import split_long_runs

    try:
        nlp = spacy.load(name)
    except OSError as err:
        if name == DEFAULT_MODEL:
            raise CannotRun(
                f"the default pipeline {DEFAULT_MODEL!r} is not installed. Install it from the repository "
                f"(`pip install packages/{DEFAULT_MODEL}-<version>`; `make` does it), or pass --model with "
                "the name or path of another spaCy pipeline."
            ) from None
        raise CannotRun(f"cannot load pipeline {name!r}: {err}") from None
    return split_long_runs(nlp)  # a run of punctuation thousands long would hold a worker for minutes


def add_taxonomy(nlp, path: Path) -> None:
    """``--taxonomy``: a head for a user's taxonomy file, scored by its label descriptions."""
    from ..pipeline.doc_categories import add_taxonomy_head

    try:
        add_taxonomy_head(nlp, str(path))
    except ValueError as err:
        raise CannotRun(f"--taxonomy {path}: {err}") from None


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


def make_writer(path: Path, nlp, *, keep_trf_data: bool = False):
    from .outputs import CsvWriter, DocBinWriter, JsonlWriter, output_format

    fmt = output_format(path)
    if fmt == "jsonl":
        return JsonlWriter(path)
    if fmt == "csv":
        labels, certainty = pipeline_taxonomies(nlp)
        return CsvWriter(path, labels, certainty)
    return DocBinWriter(path, nlp.vocab, keep_trf_data=keep_trf_data)


def companion_paths(output: Path) -> List[Path]:
    """The files and folders that belong to an output: never inputs, even inside an input folder."""
    output = Path(output)
    return [
        output,
        output.with_name(output.name + ".parts"),
        output.with_name(output.name + ".tmp"),
        manifest_path(output),
        manifest_path(output).with_name(manifest_path(output).name + ".tmp"),
        lock_path(output),
    ]


def _columns(value: Optional[str]) -> Optional[List[str]]:
    if not value:
        return None
    columns = [c.strip() for c in value.split(",") if c.strip()]
    return columns or None


@app.command("annotate")
def annotate_command(
    inputs: List[str] = typer.Argument(
        ...,
        help="Files, folders or globs (not standard input): papers as .pdf, .txt, .md, JATS (.nxml/.xml), "
        "GROBID TEI (.tei.xml/.xml), S2ORC/unarXive .json(l); records as .jsonl, .json, .csv/.tsv, .parquet; "
        "any of them gzipped (.gz); tar archives of papers (.tar, .tar.gz, .tgz). Other files in a folder "
        "are skipped, and counted.",
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
        None,
        "--text-columns",
        help="Comma-separated text columns of CSV/JSONL/Parquet records, joined in order (e.g. AwardTitle,AwardAbstract). "
        "Default: a 'text' column, else a title and an abstract column found by name (title, Project Title, "
        "AwardTitle, PROJECT_TITLE; abstract, AbstractNarration, ABSTRACT_TEXT, Scientific_Abstract, objective, "
        "summary; case, spaces and _ ignored).",
    ),
    id_column: Optional[str] = typer.Option(
        None, "--id-column", help="Id column of CSV/JSONL/Parquet records. Default: found by name (id, paper_id, "
        "AwardNumber, APPLICATION_ID, Project_ID, ProjectReference, pmid, doi, ...), else <file>:<row>."
    ),
    encoding: Optional[str] = typer.Option(
        None, "--encoding", help="Encoding of input text that is not UTF-8 (e.g. cp1252 for Excel's CSV on Windows, "
        "latin-1): text, Markdown, CSV/TSV and JSON(L) files; text that is valid UTF-8 is always read as UTF-8. "
        "Default: such text is an error record."
    ),
    no_text: bool = typer.Option(False, "--no-text", help="Leave the text out of JSONL records."),
    keep_trf_data: bool = typer.Option(
        False, "--keep-trf-data", help="Keep each doc's transformer output (doc._.trf_data) in a .spacy output (large)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run's output."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    max_chars: Optional[int] = typer.Option(
        None, "--max-chars", min=1, help="Longest text annotated, in characters (default: the pipeline's max_length, 1,000,000 for "
        "en_scicls_default); a longer one gets an error record."
    ),
    threads: int = typer.Option(
        0, "--threads", min=0, help="Torch threads per process (0: torch's default; --n-process > 1 uses 1)."
    ),
    log_interval: float = typer.Option(30.0, "--log-interval", help="Seconds between progress lines when not on a terminal."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output (the summary is still printed)."),
    taxonomy: List[Path] = typer.Option(
        [], "--taxonomy", help="A taxonomy file (CSV or JSON: code, name, description[, group]) scored by its "
        "label descriptions, added to the pipeline for this run; repeatable."),
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

    if engine == "ray" and encoding:
        typer.echo("scicls annotate: error: --encoding is for the local engine (convert the inputs to UTF-8 "
                   "for --engine ray)", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    if engine == "ray" and taxonomy:
        typer.echo("scicls annotate: error: --taxonomy is for the local engine (add the head to the pipeline "
                   "you pass to --engine ray instead)", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
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
            encoding=encoding,
            include_text=not no_text,
            keep_trf_data=keep_trf_data,
            resume=resume,
            overwrite=overwrite,
            max_chars=max_chars,
            threads=threads,
            log_interval=log_interval,
            quiet=quiet,
            taxonomies=taxonomy,
        )
    except (CannotRun, InputError, OutputError, ManifestMismatch, OutputLocked) as err:
        typer.echo(f"scicls annotate: error: {err}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    except (KeyboardInterrupt, Terminated) as err:
        code = EXIT_INTERRUPTED if isinstance(err, KeyboardInterrupt) else EXIT_TERMINATED
        typer.echo(
            f"scicls annotate: {'interrupted' if code == EXIT_INTERRUPTED else 'terminated'}: {output} holds "
            "complete records only; run the same command with --resume to complete it",
            err=True,
        )
        sys.stderr.flush()
        # Everything written is on disk. Exit now: the queues of stopped workers can keep
        # the interpreter's exit waiting for them.
        os._exit(code)
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
    encoding: Optional[str] = None,
    include_text: bool = True,
    keep_trf_data: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    max_chars: Optional[int] = None,
    threads: int = 0,
    log_interval: float = 30.0,
    quiet: bool = False,
    taxonomies: Sequence[Path] = (),
) -> int:
    """The command without its argument parsing; returns the exit status.

    Nothing is written before every check that can refuse the run has passed:
    the arguments, the inputs, the output's folder, the lock, the pipeline, the
    manifest of a resumed output and the ids of the records it already holds.
    """
    from .inputs import check_encoding, check_inputs
    from .outputs import output_format

    if resume and overwrite:
        raise CannotRun("--resume and --overwrite exclude each other")
    if gpu_id >= 0 and n_process > 1:
        raise CannotRun("--n-process > 1 runs on CPU; use one process with --gpu-id")
    output = Path(output)
    fmt = output_format(output)
    encoding = check_encoding(encoding)
    exclude = companion_paths(output)
    fields_read: List[tuple] = []
    columns: dict = {}
    _, skipped = check_inputs(
        inputs, format=format, text_columns=text_columns, id_column=id_column, exclude=exclude,
        fields_read=fields_read, columns=columns, encoding=encoding,
    )
    say_fields_read(fields_read)
    if output.is_dir():
        raise CannotRun(f"{output} is a folder: name the output file")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        lock = OutputLock(output).acquire()
    except OSError as err:
        # Found before the pipeline loads: a folder that cannot be written to.
        raise CannotRun(f"cannot write to {output.parent}: {err.strerror or err}") from None
    try:
        return _run_locked(
            inputs, output, fmt, exclude, skipped, columns,
            model=model, batch_size=batch_size, n_process=n_process, gpu_id=gpu_id, format=format,
            text_columns=text_columns, id_column=id_column, encoding=encoding, include_text=include_text,
            keep_trf_data=keep_trf_data, resume=resume, overwrite=overwrite, max_chars=max_chars,
            threads=threads, log_interval=log_interval, quiet=quiet, taxonomies=taxonomies,
        )
    finally:
        lock.release()


def say_fields_read(fields_read: Sequence[tuple]) -> None:
    """One line per way of reading columns, with the files read that way: the user sees which
    columns became the text and the id where they were found by name."""
    by_description: dict = {}
    for name, description in fields_read:
        by_description.setdefault(description, []).append(name)
    for description, names in by_description.items():
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        typer.echo(f"scicls annotate: {names[0]}{more}: {description}", err=True)


def _run_locked(inputs, output: Path, fmt: str, exclude, skipped, columns, *, model, batch_size, n_process, gpu_id,
                format, text_columns, id_column, encoding, include_text, keep_trf_data, resume, overwrite, max_chars,
                threads, log_interval, quiet, taxonomies) -> int:
    from .inputs import count_records, iter_records
    from .outputs import OutputError, output_exists
    from .progress import Progress
    from .run import annotate_records, error_kind, holds_every_record, skip_done
    from ..ml.shared_listener import releasing_transformer_output
    from ..threads import set_cpu_threads

    exists = output_exists(output)
    if exists and not (resume or overwrite):
        raise CannotRun(f"{output} exists: pass --resume to continue it or --overwrite to replace it")
    nlp = load_pipeline(model, gpu_id)
    if n_process > 1 or threads > 0:
        # Forked workers hang in torch's thread pool unless it has one thread;
        # numpy's BLAS (the heads) gets the same count, so that workers do not
        # oversubscribe the cores. Set before anything runs torch (the fingerprint does).
        set_cpu_threads(1 if n_process > 1 else threads)
    for path in taxonomies:
        add_taxonomy(nlp, path)
    if max_chars is not None and max_chars > nlp.max_length:
        # Asked for: texts up to --max-chars are annotated, not refused by spaCy (E088) one by one.
        nlp.max_length = max_chars
    options = RecordOptions(
        batch_size=batch_size,
        include_text=include_text,
        max_chars=max_chars or nlp.max_length,
        format=format,
        text_columns=tuple(text_columns) if text_columns else None,
        id_column=id_column,
        device="gpu" if gpu_id >= 0 else "cpu",
        keep_trf_data=keep_trf_data if fmt == "spacy" else False,
        encoding=encoding,
    )
    manifest = make_manifest(nlp, inputs=inputs, options=options, output_format=fmt, records=record_rules(columns))
    resuming = resume and exists
    if resuming:
        check_resume(output, manifest)
    writer = make_writer(output, nlp, keep_trf_data=keep_trf_data)
    if skipped:
        endings = Counter(p.suffix.lower() or "(no ending)" for p in skipped)
        typer.echo(
            f"scicls annotate: skipping {len(skipped)} file(s) that are not papers in the input folders "
            f"({', '.join(f'{e}: {n}' for e, n in endings.most_common())}), e.g. {skipped[0]}",
            err=True,
        )

    def records():
        return iter_records(
            inputs,
            format=format,
            text_columns=text_columns,
            id_column=id_column,
            max_chars=max_chars or nlp.max_length,
            exclude=exclude,
            encoding=encoding,
        )

    done_ids: List[str] = []
    if resuming:
        # Reads only: the output changes when the run writes its first batch. A resumed run
        # starts on a batch boundary, so that its batches are those of an uninterrupted run.
        done_ids = writer.open(resume=True, align=batch_size)
        try:
            # Other inputs are refused before a byte is written: every record in the output,
            # the last partial batch's too, must be the input record at its position.
            rest = records()
            skip_done(rest, done_ids)
            written = writer.written_ids()
            finished = holds_every_record(rest, done_ids, written)
        except BaseException:
            writer.close(complete=False)
            raise
        if finished:
            # Every input record has its output record, the last (partial) batch included: it is
            # the uninterrupted run's output already, and doing that batch again would only cost time.
            writer.keep_written()
            writer.close(complete=True)
            failed = Counter(error_kind(e) for e in writer.written_errors() if e is not None)
            typer.echo(
                f"scicls annotate: {output} already holds a record for each of the {len(written):,} "
                "input records: nothing to do",
                err=True,
            )
            if failed:  # the exit status of the run that made it: 1 when some records failed
                reasons = ", ".join(f"{kind} ({n:,})" for kind, n in failed.most_common())
                typer.echo(f"failed records in the output: {reasons}", err=True)
            return EXIT_RECORDS_FAILED if failed else EXIT_OK
    else:
        # The new manifest is written first but put in place only once an old output (--overwrite),
        # and the parts of an unfinished .spacy run, are gone: a full disk stops the run with the old
        # output as it was, and a run killed in between never leaves old records under a new manifest.
        try:
            stage_manifest(output, manifest)
        except OSError as err:
            raise OutputError(
                f"cannot write {manifest_path(output)}: {err.strerror or err}. Nothing was changed: make room "
                "(or fix the folder) and run the command again"
            ) from None
        for stale in (output, output.with_name(output.name + ".parts")):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            elif stale.exists() or stale.is_symlink():
                stale.unlink()
        commit_manifest(output)
        writer.open(resume=False)
    progress = Progress(count_records(inputs, format=format, exclude=exclude), interval=log_interval, enabled=not quiet)
    complete = False
    try:
        # No output holds the transformer's output unless --keep-trf-data: a batch's is let go
        # once the first head has pooled it (less memory for long papers, the same records).
        with tied_workers(), releasing_transformer_output(nlp, enabled=not options.keep_trf_data):
            summary = annotate_records(
                nlp,
                records(),
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


@app.command("calibrate")
def calibrate_command(
    model: str = typer.Argument(..., help="A saved pipeline: a folder or an installed package's name."),
    dev: Path = typer.Argument(..., help="Dev docs with gold annotations, a .spacy file (DocBin)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder the calibrated pipeline is saved to."),
    limit: int = typer.Option(0, "--limit", min=0, help="Read only the first docs of the dev file (0: all)."),
) -> None:
    """Fit what a trained pipeline decides with on dev data: each category head's temperature and
    per-label thresholds, the sections head's label order. `spacy train configs/full_pipeline.cfg`
    does this itself; use this on a pipeline trained or assembled otherwise."""
    from ..training.calibrate import calibrate_saved_pipeline

    if not dev.is_file():
        typer.echo(f"scicls calibrate: no dev file at {dev}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    try:
        report = calibrate_saved_pipeline(model, dev, output, limit)
    except (OSError, ValueError) as error:
        typer.echo(f"scicls calibrate: {error}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    for name, fitted in report.items():
        typer.echo(f"{name}: {fitted}")
    typer.echo(f"scicls calibrate: saved {output}", err=True)


def main(argv: Optional[List[str]] = None) -> None:
    app(args=argv, prog_name="scicls")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
