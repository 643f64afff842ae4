"""What ``scicls annotate`` writes: one output record per input record, in input order.

Three writers, chosen by the extension of ``--output``:

``.jsonl``  one JSON object per line (the record contract, see :func:`doc_to_record`);
``.csv``    one row per record: id, decided labels and certainty per taxonomy, error;
``.spacy``  a spaCy ``DocBin`` (with user data: id and error in ``doc.user_data``).

Every writer appends a batch of records at once and makes it durable before
returning (one ``write``, then ``flush`` and ``fsync``), and can be opened on
the output of an interrupted run: :meth:`Writer.open` returns the ids already
written, in order, after cutting off a torn last line. A run that resumes
skips exactly that many input records.
"""
import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from .durable import fsync_dir, replace_atomically

OUTPUT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".spacy": "spacy"}
SCORE_DIGITS = 6


class OutputError(ValueError):
    """The output cannot be written or resumed (it exists, or it was made from other inputs)."""


def has_surrogates(value: str) -> bool:
    """Whether ``value`` holds a lone surrogate (which has no UTF-8 form)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def escape_surrogates(value: str) -> str:
    """``value`` with each lone surrogate written as ``\\udcXX`` (for outputs that cannot hold it:
    CSV, ``.spacy``); any other string is returned as it is."""
    if not has_surrogates(value):
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _score(value) -> Optional[float]:
    return None if value is None else round(float(value), SCORE_DIGITS)


def doc_to_record(doc: Doc, record_id: str, *, include_text: bool = True) -> Dict:
    """The JSONL record of an annotated doc (the output contract; see docs/annotate.md)."""
    record: Dict = {"id": record_id}
    if include_text:
        record["text"] = doc.text
    sections = doc.spans["sections"] if "sections" in doc.spans else []
    record["sections"] = [
        {
            "start_char": span.start_char,
            "end_char": span.end_char,
            "label": span.label_,
            "heading": span._.heading,
            "score": _score(span._.section_score),
        }
        for span in sections
    ]
    record["cats"] = {key: _score(value) for key, value in doc.cats.items()}
    record["labels"] = {key: list(codes) for key, codes in (doc._.scicls_labels or {}).items()}
    record["certainty"] = {key: _score(value) for key, value in (doc._.scicls_certainty or {}).items()}
    record["ents"] = [
        {
            "start_char": ent.start_char,
            "end_char": ent.end_char,
            "label": ent.label_,
            "text": ent.text,
            "score": _score(ent._.entity_score),
        }
        for ent in doc.ents
    ]
    record["error"] = None
    return record


def error_record(record_id: str, error: str, *, include_text: bool = True) -> Dict:
    """The record of an input that could not be read or annotated: every key, ``error`` set."""
    record: Dict = {"id": record_id}
    if include_text:
        record["text"] = None
    record.update({"sections": [], "cats": {}, "labels": {}, "certainty": {}, "ents": [], "error": error})
    return record


class Writer:
    """Base of the line writers (JSONL, CSV): complete lines are records, the tail may be torn.

    :meth:`open` with ``resume`` only reads the output: the torn tail and the
    records of an unfinished batch are cut off when the run writes its first
    batch (or finishes), so an output whose resume is refused, or a run that
    stops before it writes, leaves the output as it was.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: Optional[int] = None
        self._cut_at: Optional[int] = None  # where the kept records end, until the first write
        self._n_records = 0
        self._whole_ids: List[str] = []  # every complete record found by a resume, batch or not
        self._whole_errors: List[Optional[str]] = []  # and their errors
        self._whole_end: Optional[int] = None  # where they end, when a torn tail follows them

    # subclasses: record_line(record, doc) -> str ending in "\n"; line_id(line) -> str; header() -> str
    def header(self) -> str:
        return ""

    def record_line(self, record: Dict, doc: Optional[Doc]) -> str:
        raise NotImplementedError

    def line_id(self, line: str) -> str:
        raise NotImplementedError

    def line_error(self, line: str) -> Optional[str]:
        raise NotImplementedError

    def line_fields(self, line: str) -> tuple:
        """``(id, error)`` of a written line."""
        return self.line_id(line), self.line_error(line)

    def exists(self) -> bool:
        return self.path.exists()

    def open(self, *, resume: bool, align: int = 1) -> List[str]:
        """Open for appending; returns the ids already written (empty unless ``resume``).

        With ``resume``, a torn last line, and the records after the last
        multiple of ``align`` (a batch that was written in parts), are left out
        of the ids, and cut off at the first write. Without it the output is
        created (emptied) with its header.
        """
        done: List[str] = []
        if resume and self.path.exists():
            done = self._recover(align)
            self._fd = os.open(str(self.path), os.O_WRONLY | os.O_CLOEXEC)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            self._cut_at = None
            try:
                self._write_at_end(self.header().encode("utf-8"))
            except OSError as err:
                raise self._write_error(err) from err
            fsync_dir(self.path.parent)
        self._n_records = len(done)
        return done

    def _recover(self, align: int = 1) -> List[str]:
        """The ids of the whole batches in the output; where they end goes to ``_cut_at``. Reads only."""
        data = self.path.read_bytes()
        header = self.header().encode("utf-8")
        if header and not data.startswith(header):
            if header.startswith(data):  # killed while writing the header
                self._cut_at = 0
                self._pending_header = True
                return []
            raise OutputError(
                f"{self.path}: its header differs from this run's ({self.header().strip()!r}); "
                "was it made with another pipeline? Use --overwrite to start again."
            )
        end = data.rfind(b"\n") + 1  # complete lines end with a newline; the rest is torn
        lines = data[len(header) : end].split(b"\n")[:-1] if end > len(header) else []
        keep = len(lines) // align * align
        ids, errors = [], []
        for lineno, line in enumerate(lines, 1):
            try:
                rid, error = self.line_fields(line.decode("utf-8"))
                ids.append(rid)
                errors.append(error)
            except (ValueError, KeyError, IndexError, TypeError, StopIteration) as err:
                if lineno > keep:
                    break  # after the last whole batch: cut off like a torn tail
                raise OutputError(
                    f"{self.path}: record {lineno} is not one this command wrote ({err}); "
                    "use --overwrite to start again"
                ) from None
        cut = len(header) + sum(len(line) + 1 for line in lines[:keep])
        self._cut_at = cut if cut < len(data) else None
        whole = len(header) + sum(len(line) + 1 for line in lines[: len(ids)])
        self._whole_ids = ids
        self._whole_errors = errors
        self._whole_end = whole if whole < len(data) else None
        return ids[:keep]

    def written_ids(self) -> List[str]:
        """After :meth:`open` with ``resume``: the ids of every complete record in the output,
        including those after the last whole batch."""
        return list(self._whole_ids)

    def written_errors(self) -> List[Optional[str]]:
        """The errors of the records of :meth:`written_ids` (None for an annotated record)."""
        return list(self._whole_errors)

    def keep_written(self) -> None:
        """The resumed run has nothing to add (the output holds a record for every input): keep
        every complete record, the last partial batch too; only a torn tail is cut off."""
        if self._pending_header:
            return
        self._cut_at = self._whole_end
        self._n_records = len(self._whole_ids)

    _pending_header = False

    def _apply_cut(self) -> None:
        """Cut off what a resumed run does again (once, before its first write)."""
        if self._cut_at is None:
            return
        os.ftruncate(self._fd, self._cut_at)
        self._cut_at = None
        if self._pending_header:
            self._pending_header = False
            self._write_at_end(self.header().encode("utf-8"))
        else:
            os.fsync(self._fd)

    def _write_at_end(self, data: bytes) -> None:
        """Append ``data`` and make it durable; on failure (a full disk) the file is cut back to
        where it was, so that it never ends in a part of a batch, and the error is raised."""
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, start)
                os.fsync(self._fd)
            except OSError:  # pragma: no cover - the torn tail is cut by the next --resume
                pass
            raise

    def _write_error(self, err: OSError) -> "OutputError":
        return OutputError(
            f"cannot write {self.path}: {err.strerror or err}. The output holds the "
            f"{self._n_records:,} records before the batch that failed, each complete: make room "
            "(or fix the folder) and run the same command with --resume"
        )

    def write_batch(self, items: Sequence[tuple]) -> None:
        """Append ``(record, doc)`` pairs at once and make them durable (:class:`OutputError` if
        they cannot be written: the output then holds every record before them)."""
        if not items:
            return
        data = "".join(self.record_line(record, doc) for record, doc in items).encode("utf-8")
        try:
            self._apply_cut()
            self._write_at_end(data)
        except OSError as err:
            raise self._write_error(err) from err
        self._n_records += len(items)

    def close(self, complete: bool = True) -> None:
        """Close the file; a ``complete`` run that wrote nothing still cuts a torn tail."""
        if self._fd is None:
            return
        try:
            if complete:
                try:
                    self._apply_cut()
                except OSError as err:
                    raise self._write_error(err) from err
        finally:
            os.close(self._fd)
            self._fd = None


class JsonlWriter(Writer):
    def record_line(self, record: Dict, doc: Optional[Doc]) -> str:
        # ensure_ascii=False keeps text readable; json escapes every newline, so one record is one line.
        line = json.dumps(record, ensure_ascii=False) + "\n"
        if has_surrogates(line):
            # A lone surrogate (from a \udc80 escape in a JSON input) has no UTF-8 form: written as
            # JSON escapes, the line reads back as exactly the same record.
            line = json.dumps(record, ensure_ascii=True) + "\n"
        return line

    def line_id(self, line: str) -> str:
        record = json.loads(line)
        return str(record["id"])

    def line_error(self, line: str) -> Optional[str]:
        return json.loads(line).get("error")

    def line_fields(self, line: str) -> tuple:
        record = json.loads(line)  # once: a resume reads every line of the output
        return str(record["id"]), record.get("error")


class CsvWriter(Writer):
    """One row per record, for spreadsheets: ``id``, then per taxonomy its decided labels
    (joined by ``"; "``) and its certainty, then ``error``.

    The columns come from the pipeline (its category heads' taxonomies and their
    roll-ups), so every row has the same columns. Line breaks inside a value are
    written as spaces, so that one row is one line.
    """

    LABEL_SEPARATOR = "; "

    def __init__(self, path: Path, taxonomies: Sequence[str], certainty_taxonomies: Sequence[str]):
        super().__init__(path)
        self.taxonomies = list(taxonomies)
        self.certainty_taxonomies = list(certainty_taxonomies)

    def columns(self) -> List[str]:
        return (
            ["id"]
            + [f"labels_{t}" for t in self.taxonomies]
            + [f"certainty_{t}" for t in self.certainty_taxonomies]
            + ["error"]
        )

    def header(self) -> str:
        return self._row(self.columns())

    def record_line(self, record: Dict, doc: Optional[Doc]) -> str:
        labels = record.get("labels") or {}
        certainty = record.get("certainty") or {}
        values = [record["id"]]
        values += [self.LABEL_SEPARATOR.join(labels.get(t, [])) for t in self.taxonomies]
        values += [certainty.get(t) for t in self.certainty_taxonomies]
        values.append(record.get("error"))
        return self._row(values)

    def line_id(self, line: str) -> str:
        return next(csv.reader([line]))[0]

    def line_error(self, line: str) -> Optional[str]:
        return next(csv.reader([line]))[-1] or None

    def line_fields(self, line: str) -> tuple:
        row = next(csv.reader([line]))
        return row[0], row[-1] or None

    def _row(self, values: Sequence[object]) -> str:
        out = io.StringIO()
        clean = ["" if v is None else escape_surrogates(" ".join(str(v).splitlines())) for v in values]
        csv.writer(out, lineterminator="\n").writerow(clean)
        return out.getvalue()


class DocBinWriter:
    """A ``DocBin`` file, built from one part per batch.

    Parts are written to ``<output>.parts/`` (each atomically: a temporary file,
    fsync, rename); :meth:`close` joins them into the output (atomically), then
    marks the folder done (``JOINED``) and removes it. On resume the parts
    folder, unless marked done, holds every record (a finished output that a
    run continues is copied in as the first part, never moved); otherwise the
    finished output does. Nothing is changed until the run writes its first
    batch or finishes.

    Each doc's transformer output (``doc._.trf_data``, some 35 times the size of
    its JSONL record) is left out unless ``keep_trf_data``.
    """

    ID_KEY = "scicls_id"
    ERROR_KEY = "scicls_error"
    DONE_MARK = "JOINED"
    TRF_DATA_KEY = ("._.", "trf_data", None, None)

    def __init__(self, path: Path, vocab: Vocab, *, keep_trf_data: bool = False):
        self.path = Path(path)
        self.parts = self.path.with_name(self.path.name + ".parts")
        self.vocab = vocab
        self.keep_trf_data = keep_trf_data
        self._n_parts = 0
        self._n_records = 0
        self._pending: Optional[tuple] = None  # (source, keep): what to set up before the first write
        self._whole_ids: List[str] = []
        self._whole_errors: List[Optional[str]] = []

    def exists(self) -> bool:
        return self.path.exists() or self._parts_in_progress()

    def _parts_in_progress(self) -> bool:
        return self.parts.is_dir() and not (self.parts / self.DONE_MARK).exists()

    def _part_files(self) -> List[Path]:
        return sorted(p for p in self.parts.glob("part-*.spacy"))

    def _docs(self, path: Path) -> List[Doc]:
        return list(DocBin(store_user_data=True).from_disk(path).get_docs(self.vocab))

    def open(self, *, resume: bool, align: int = 1) -> List[str]:
        if not resume:
            if self.parts.exists():
                shutil.rmtree(self.parts)
            if self.path.exists():
                self.path.unlink()
            self.parts.mkdir(parents=True, exist_ok=True)
            self._n_parts = 0
            return []
        ids: List[str] = []
        errors: List[Optional[str]] = []
        if self._parts_in_progress():
            source = "parts"
            docs = (doc for part in self._part_files() for doc in self._docs(part))  # a part at a time
        elif self.path.exists():
            source = "output"
            docs = self._docs(self.path)
        else:
            source, docs = None, []
        for doc in docs:
            ids.append(str(doc.user_data.get(self.ID_KEY)))
            errors.append(doc.user_data.get(self.ERROR_KEY))
        keep = len(ids) // align * align
        self._pending = (source, keep, len(ids))
        self._n_records = keep
        self._whole_ids = ids
        self._whole_errors = errors
        return ids[:keep]

    def written_ids(self) -> List[str]:
        """After :meth:`open` with ``resume``: the ids of every record in the output (or its parts)."""
        return list(self._whole_ids)

    def written_errors(self) -> List[Optional[str]]:
        return list(self._whole_errors)

    def keep_written(self) -> None:
        """The resumed run has nothing to add: keep every record, the last partial batch too."""
        if self._pending is not None:
            source, _, n_ids = self._pending
            self._pending = (source, n_ids, n_ids)
            self._n_records = n_ids

    def _set_up(self) -> None:
        """Before the first write of a resumed run: the parts folder holds exactly the kept records."""
        if self._pending is None:
            return
        source, keep, n_ids = self._pending
        if self.parts.exists() and (self.parts / self.DONE_MARK).exists():
            shutil.rmtree(self.parts)  # left over from a run killed while removing it
        self.parts.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts.glob("*.tmp"):
            tmp.unlink()  # a part that was being written when the run stopped
        if source == "output":
            docs = self._docs(self.path)[:keep]
            self._write_part(self.parts / "part-000000.spacy", docs)
        elif source == "parts" and keep < n_ids:  # drop the records after the last whole batch
            seen = 0
            for part in self._part_files():
                docs = self._docs(part)
                if seen >= keep:
                    part.unlink()
                elif seen + len(docs) > keep:
                    self._write_part(part, docs[: keep - seen])
                seen += len(docs)
            fsync_dir(self.parts)
        files = self._part_files()
        self._n_parts = int(files[-1].stem.split("-")[1]) + 1 if files else 0
        self._pending = None

    def _write_part(self, final: Path, docs: Sequence[Doc]) -> None:
        docbin = DocBin(store_user_data=True, docs=docs)
        try:
            replace_atomically(final, docbin.to_bytes(), final.with_suffix(".tmp"))
        except OSError as err:
            raise OutputError(
                f"cannot write {final}: {err.strerror or err}. The output holds the {self._n_records:,} "
                "records before the batch that failed, each complete: make room (or fix the folder) "
                "and run the same command with --resume"
            ) from err

    def write_batch(self, items: Sequence[tuple]) -> None:
        if not items:
            return
        self._set_up()
        docs = []
        for record, doc in items:
            if doc is None:
                doc = Doc(self.vocab, words=[])
            if not self.keep_trf_data:
                doc.user_data.pop(self.TRF_DATA_KEY, None)
            doc.user_data[self.ID_KEY] = escape_surrogates(record["id"])
            error = record.get("error")
            doc.user_data[self.ERROR_KEY] = None if error is None else escape_surrogates(error)
            docs.append(doc)
        self._write_part(self.parts / f"part-{self._n_parts:06d}.spacy", docs)
        self._n_parts += 1
        self._n_records += len(docs)

    def close(self, complete: bool = True) -> None:
        """When ``complete``, join the parts into the output file (atomically) and remove them."""
        if not complete:
            return
        if self._pending is not None:
            source, keep, n_ids = self._pending
            if source == "output" and keep == n_ids:
                self._pending = None
                if self.parts.is_dir():  # left over from a run killed while removing it
                    shutil.rmtree(self.parts)
                return  # a finished output that nothing was added to: it stays as it is
        self._set_up()
        merged = DocBin(store_user_data=True)
        for part in self._part_files():
            merged.merge(DocBin(store_user_data=True).from_disk(part))
        try:
            replace_atomically(self.path, merged.to_bytes(), self.path.with_name(self.path.name + ".tmp"))
        except OSError as err:
            raise OutputError(
                f"cannot write {self.path}: {err.strerror or err}. Every record is in {self.parts.name}: "
                "make room and run the same command with --resume"
            ) from err
        # Marked done before its removal starts: a run killed while removing it leaves an output that is
        # finished, and a folder that the next run knows to be a leftover.
        (self.parts / self.DONE_MARK).write_bytes(b"")
        fsync_dir(self.parts)
        shutil.rmtree(self.parts)


def output_exists(path: Path) -> bool:
    """Whether ``path`` (or, for ``.spacy``, the parts of an unfinished run) exists."""
    path = Path(path)
    parts = path.with_name(path.name + ".parts")
    return path.exists() or (
        output_format(path) == "spacy" and parts.is_dir() and not (parts / DocBinWriter.DONE_MARK).exists()
    )


def output_format(path: Path) -> str:
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise OutputError(
            f"cannot tell the output format from {Path(path).name!r}: end it in "
            + ", ".join(OUTPUT_FORMATS)
        )
    return fmt
