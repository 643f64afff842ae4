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

OUTPUT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".spacy": "spacy"}
SCORE_DIGITS = 6


class OutputError(ValueError):
    """The output cannot be written or resumed (it exists, or it was made from other inputs)."""


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


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Writer:
    """Base of the line writers (JSONL, CSV): complete lines are records, the tail may be torn."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = None

    # subclasses: record_line(record, doc) -> str ending in "\n"; line_id(line) -> str; header() -> str
    def header(self) -> str:
        return ""

    def record_line(self, record: Dict, doc: Optional[Doc]) -> str:
        raise NotImplementedError

    def line_id(self, line: str) -> str:
        raise NotImplementedError

    def exists(self) -> bool:
        return self.path.exists()

    def open(self, *, resume: bool, align: int = 1) -> List[str]:
        """Open for appending; returns the ids already written (empty unless ``resume``).

        With ``resume``, a torn last line is cut off, and so are the records after
        the last multiple of ``align`` (a batch that was written in parts is done again).
        """
        done: List[str] = []
        if resume and self.path.exists():
            done = self._recover(align)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("wb") as file:
                file.write(self.header().encode("utf-8"))
                file.flush()
                os.fsync(file.fileno())
            _fsync_dir(self.path.parent)
        self._file = self.path.open("ab")
        return done

    def _recover(self, align: int = 1) -> List[str]:
        data = self.path.read_bytes()
        header = self.header().encode("utf-8")
        if header and not data.startswith(header):
            if header.startswith(data):  # killed while writing the header
                data = b""
            else:
                raise OutputError(
                    f"{self.path}: its header differs from this run's ({self.header().strip()!r}); "
                    "was it made with another pipeline? Use --overwrite to start again."
                )
        if not data:
            with self.path.open("wb") as file:
                file.write(header)
                file.flush()
                os.fsync(file.fileno())
            return []
        end = data.rfind(b"\n") + 1  # complete lines end with a newline; the rest is torn
        lines = data[len(header) : end].split(b"\n")[:-1] if end > len(header) else []
        keep = len(lines) // align * align
        end = len(header) + sum(len(line) + 1 for line in lines[:keep])
        if end < len(data):
            with self.path.open("r+b") as file:
                file.truncate(end)
                file.flush()
                os.fsync(file.fileno())
        ids = []
        for lineno, line in enumerate(lines[:keep], 1):
            try:
                ids.append(self.line_id(line.decode("utf-8")))
            except (ValueError, KeyError, IndexError, TypeError, StopIteration) as err:
                raise OutputError(
                    f"{self.path}: record {lineno} is not one this command wrote ({err}); "
                    "use --overwrite to start again"
                ) from None
        return ids

    def write_batch(self, items: Sequence[tuple]) -> None:
        """Append ``(record, doc)`` pairs at once and make them durable."""
        if not items:
            return
        data = "".join(self.record_line(record, doc) for record, doc in items).encode("utf-8")
        self._file.write(data)
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self, complete: bool = True) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class JsonlWriter(Writer):
    def record_line(self, record: Dict, doc: Optional[Doc]) -> str:
        # ensure_ascii=False keeps text readable; json escapes every newline, so one record is one line.
        return json.dumps(record, ensure_ascii=False) + "\n"

    def line_id(self, line: str) -> str:
        record = json.loads(line)
        return str(record["id"])


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

    def _row(self, values: Sequence[object]) -> str:
        out = io.StringIO()
        clean = ["" if v is None else " ".join(str(v).splitlines()) for v in values]
        csv.writer(out, lineterminator="\n").writerow(clean)
        return out.getvalue()

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


class DocBinWriter:
    """A ``DocBin`` file, built from one part per batch.

    Parts are written to ``<output>.parts/`` (each atomically: a temporary file,
    fsync, rename); :meth:`close` joins them into the output and removes the
    folder. A resumed run reads the ids from the parts (and from a finished
    output, which becomes the first part).
    """

    ID_KEY = "scicls_id"
    ERROR_KEY = "scicls_error"

    def __init__(self, path: Path, vocab: Vocab):
        self.path = Path(path)
        self.parts = self.path.with_name(self.path.name + ".parts")
        self.vocab = vocab
        self._n_parts = 0

    def exists(self) -> bool:
        return self.path.exists() or self.parts.exists()

    def _part_files(self) -> List[Path]:
        return sorted(p for p in self.parts.glob("part-*.spacy"))

    def open(self, *, resume: bool, align: int = 1) -> List[str]:
        if not resume:
            if self.parts.exists():
                shutil.rmtree(self.parts)
            if self.path.exists():
                self.path.unlink()
        self.parts.mkdir(parents=True, exist_ok=True)
        for tmp in self.parts.glob("*.tmp"):
            tmp.unlink()  # a part that was being written when the run stopped
        if resume and self.path.exists():
            first = self.parts / "part-000000.spacy"
            if not first.exists():
                shutil.copyfile(self.path, first)
                _fsync_dir(self.parts)
            self.path.unlink()
        ids: List[str] = []
        for part in self._part_files():
            docbin = DocBin(store_user_data=True).from_disk(part)
            docs = list(docbin.get_docs(self.vocab))
            ids.extend(str(doc.user_data.get(self.ID_KEY)) for doc in docs)
        keep = len(ids) // align * align
        if keep < len(ids):  # drop the records after the last whole batch (and rewrite that part)
            seen = 0
            for part in self._part_files():
                docs = list(DocBin(store_user_data=True).from_disk(part).get_docs(self.vocab))
                if seen + len(docs) <= keep:
                    seen += len(docs)
                    continue
                if seen >= keep:
                    part.unlink()
                    continue
                kept = DocBin(store_user_data=True, docs=docs[: keep - seen])
                tmp = part.with_suffix(".tmp")
                tmp.write_bytes(kept.to_bytes())
                os.replace(tmp, part)
                seen = keep
            _fsync_dir(self.parts)
            ids = ids[:keep]
        files = self._part_files()
        self._n_parts = int(files[-1].stem.split("-")[1]) + 1 if files else 1
        return ids

    def write_batch(self, items: Sequence[tuple]) -> None:
        if not items:
            return
        docbin = DocBin(store_user_data=True)
        for record, doc in items:
            if doc is None:
                doc = Doc(self.vocab, words=[])
            doc.user_data[self.ID_KEY] = record["id"]
            doc.user_data[self.ERROR_KEY] = record.get("error")
            docbin.add(doc)
        final = self.parts / f"part-{self._n_parts:06d}.spacy"
        tmp = final.with_suffix(".tmp")
        with tmp.open("wb") as file:
            file.write(docbin.to_bytes())
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, final)
        _fsync_dir(self.parts)
        self._n_parts += 1

    def close(self, complete: bool = True) -> None:
        """When ``complete``, join the parts into the output file (atomically) and remove them."""
        if not complete or not self.parts.exists():
            return
        merged = DocBin(store_user_data=True)
        for part in self._part_files():
            merged.merge(DocBin(store_user_data=True).from_disk(part))
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as file:
            file.write(merged.to_bytes())
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        shutil.rmtree(self.parts)


def output_exists(path: Path) -> bool:
    """Whether ``path`` (or, for ``.spacy``, the parts of an unfinished run) exists."""
    path = Path(path)
    return path.exists() or (
        output_format(path) == "spacy" and path.with_name(path.name + ".parts").exists()
    )


def output_format(path: Path) -> str:
    fmt = OUTPUT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise OutputError(
            f"cannot tell the output format from {Path(path).name!r}: end it in "
            + ", ".join(OUTPUT_FORMATS)
        )
    return fmt
