"""The annotation loop: records in, one output record per input record out, in order.

Records that cannot be read get an error record without reaching the
pipeline. The others stream through ``nlp.pipe`` (with ``n_process`` workers
if asked); if the pipeline raises, the records whose annotations had not come
back yet are annotated again one at a time, so that only the record that fails
gets an error record, and the stream starts again after them. Output is written
in batches of ``batch_size`` records (and at least every ``flush_seconds``), each
made durable before the next is started.
"""
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Deque, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc

from .inputs import InputError, Record, RecordError, check_text
from .outputs import OutputError, doc_to_record, error_record, escape_surrogates
from .progress import Progress


@dataclass
class Summary:
    annotated: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    errors: Counter = field(default_factory=Counter)

    @property
    def written(self) -> int:
        return self.annotated + self.failed

    def lines(self) -> List[str]:
        rate = self.written / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"scicls annotate: {self.written:,} records in {self.seconds:.1f} s ({rate:.{1 if rate >= 10 else 3}f} records/s): "
            f"{self.annotated:,} annotated, {self.failed:,} failed"
            + (f", {self.skipped:,} already in the output (--resume)" if self.skipped else "")
        ]
        if self.errors:
            reasons = ", ".join(f"{kind} ({n:,})" for kind, n in self.errors.most_common())
            out.append(f"failed records: {reasons}")
        return out


def error_kind(message: str) -> str:
    """The reason of an error message without its details (``"malformed JSON: ..."`` -> ``"malformed JSON"``)."""
    return message.split(":", 1)[0].strip() or "error"


@dataclass
class _Item:
    index: int
    record: Record
    content: Union[str, Doc, None] = None
    error: Optional[str] = None


def _load(record: Record, nlp: Language, max_chars: int) -> Tuple[Union[str, Doc, None], Optional[str]]:
    try:
        content = record.load(nlp)
        if isinstance(content, Doc):
            check_text(content.text, max_chars)
        return content, None
    except RecordError as err:
        return None, str(err)
    except Exception as err:  # noqa: BLE001 - any failure to read is this record's error
        return None, f"cannot read record: {type(err).__name__}: {err}"


def skip_done(records: Iterator[Record], done_ids: Sequence[str], start: int = 0) -> None:
    """Advance ``records`` past those already in the output, checking that their ids match
    (``start``: the output position of ``done_ids[0]``, when ``records`` are already past some)."""
    for position, expected in enumerate(done_ids, start):
        record = next(records, None)
        if record is None:
            raise OutputError(
                f"the output holds {start + len(done_ids):,} records but the inputs only {position:,}: "
                "it was made from other inputs; use --overwrite to start again"
            )
        if record.id != expected and escape_surrogates(record.id) != expected:
            raise OutputError(
                f"record {position + 1:,} of the output has id {expected!r} but input record "
                f"{position + 1:,} is {record.id!r}: the output was made from other inputs "
                "(or another order); use --overwrite to start again"
            )


def holds_every_record(records: Iterator[Record], done_ids: Sequence[str], written_ids: Sequence[str]) -> bool:
    """After :func:`skip_done` over ``done_ids`` (the output's whole batches): whether the output's
    other records (``written_ids`` past them: its last, partial batch) are the rest of the inputs,
    so that a resume has nothing to do. :class:`OutputError` if they are other records; False
    if the inputs hold more, or cannot be read past them (the run then says why)."""
    tail = written_ids[len(done_ids):]
    try:
        skip_done(records, tail, start=len(done_ids))
        return next(records, None) is None
    except OutputError:
        raise
    except Exception:  # noqa: BLE001 - an input that breaks off: the run reports it in its place
        return False


def annotate_records(
    nlp: Language,
    records: Iterable[Record],
    writer,
    *,
    done_ids: Sequence[str] = (),
    batch_size: int = 32,
    n_process: int = 1,
    include_text: bool = True,
    max_chars: Optional[int] = None,
    progress: Optional[Progress] = None,
    flush_seconds: float = 10.0,
) -> Summary:
    """Annotate ``records`` with ``nlp`` and write one output record each to ``writer``."""
    max_chars = max_chars or nlp.max_length
    progress = progress or Progress(None, enabled=False)
    summary = Summary(skipped=len(done_ids))
    started = time.perf_counter()
    records = iter(records)
    skip_done(records, done_ids)
    progress.start(skipped=len(done_ids))

    buffer: List[tuple] = []
    last_write = time.perf_counter()

    def flush() -> None:
        nonlocal last_write
        items = list(buffer)
        buffer.clear()  # a batch that cannot be written is not tried again on the way out
        writer.write_batch(items)
        last_write = time.perf_counter()

    def emit(item: _Item, doc: Optional[Doc], error: Optional[str] = None) -> None:
        error = error or item.error
        if error is None:
            record = doc_to_record(doc, item.record.id, include_text=include_text)
            summary.annotated += 1
        else:
            record = error_record(item.record.id, error, include_text=include_text)
            doc = None
            summary.failed += 1
            summary.errors[error_kind(error)] += 1
        buffer.append((record, doc))
        progress.advance(1, failed=int(error is not None))
        if len(buffer) >= batch_size or time.perf_counter() - last_write >= flush_seconds:
            flush()

    pending: Deque[_Item] = deque()
    fatal: List[BaseException] = []
    next_index = summary.skipped

    def pull() -> bool:
        """Read the next record into ``pending``; False at the end of the inputs."""
        nonlocal next_index
        try:
            record = next(records)
        except StopIteration:
            return False
        except Exception as err:  # noqa: BLE001 - an input that broke off: stop cleanly, then raise
            fatal.append(err)
            return False
        content, error = _load(record, nlp, max_chars)
        pending.append(_Item(next_index, record, content, error))
        next_index += 1
        return True

    def feed():
        # Every record goes through the pipeline, a record that could not be read
        # as an empty placeholder: the pipeline's batches are then always the same
        # records (positions k*batch_size to (k+1)*batch_size - 1), whatever the
        # number of processes or the point a resumed run starts from, and so are
        # the floats they give.
        while not fatal and pull():
            item = pending[-1]
            yield (item.content if item.error is None else ""), item.index

    try:
        while True:
            stream = nlp.pipe(feed(), as_tuples=True, batch_size=batch_size, n_process=n_process)
            broke: Optional[BaseException] = None
            try:
                while True:
                    try:
                        doc, index = next(stream)
                    except StopIteration:
                        break
                    except Exception as err:  # noqa: BLE001 - the pipeline failed on some record of a batch
                        broke = err
                        break
                    item = pending.popleft()
                    assert item.index == index, (item.index, index)
                    emit(item, doc)
            finally:
                # Stops the workers of n_process > 1 however the loop ends (an error, Ctrl-C, SIGTERM).
                stream.close()
            if broke is None:
                break
            if not pending and not fatal:
                raise broke  # no record to blame: the pipeline itself cannot run
            # Complete the batch the stream stopped in, so that the next stream starts on a batch boundary.
            while next_index % batch_size and not fatal and pull():
                pass
            _retry_batches(nlp, pending, emit, max_chars, batch_size)
            if fatal:
                break
    finally:
        if buffer:
            flush()
        progress.close()
        summary.seconds = time.perf_counter() - started
    if fatal:
        err = fatal[0]
        raise InputError(
            f"reading the inputs failed after record {summary.skipped + summary.written:,} "
            f"({type(err).__name__}: {err}); the output holds every record before it: "
            "fix the input and run the same command with --resume"
        ) from err
    return summary


def _retry_batches(nlp: Language, pending: Deque[_Item], emit, max_chars: int, batch_size: int) -> None:
    """Annotate ``pending`` again batch by batch (the same batches as the stream), and one
    record at a time in a batch that fails, so that only the failing record gets an error."""
    while pending:
        batch = [pending.popleft()]
        while pending and pending[0].index // batch_size == batch[0].index // batch_size:
            batch.append(pending.popleft())
        # Read the records again: the pipeline may have half-annotated the first copies.
        for item in batch:
            if item.error is None and isinstance(item.content, Doc):
                item.content, item.error = _load(item.record, nlp, max_chars)
        try:
            docs = list(nlp.pipe([i.content if i.error is None else "" for i in batch], batch_size=batch_size))
        except Exception:  # noqa: BLE001 - one of them fails: find it
            _retry_one_by_one(nlp, batch, emit, max_chars)
            continue
        for item, doc in zip(batch, docs):
            emit(item, doc)


def _retry_one_by_one(nlp: Language, items: List[_Item], emit, max_chars: int) -> None:
    for item in items:
        if item.error is not None:
            emit(item, None)
            continue
        content, error = _load(item.record, nlp, max_chars)
        if error is not None:
            emit(item, None, error)
            continue
        try:
            doc = nlp(content)
        except Exception as err:  # noqa: BLE001 - this record's error, the run goes on
            emit(item, None, f"annotation failed: {type(err).__name__}: {err}")
            continue
        emit(item, doc)
