"""Parquet records: one record per row, read with pyarrow a row group at a time.

Large corpora travel as Parquet (a million abstracts is a few files of row
groups). Rows are records like CSV and JSONL ones: their text is
``--text-columns`` (default: found by name, :mod:`spacy_scicls.cli.record_fields`) and
their id ``--id-column`` (default: found by name too), else ``<file>:<row>``.
pyarrow is not a core requirement: it comes with the ``ray`` extra
(``pip install "spacy_scicls[ray]"``) or on its own (``pip install pyarrow``).
"""
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from .inputs import InputError, Record, _error_loader, _json_loader, _record_id

#: Rows converted to Python at a time (memory stays bounded for any file size).
ROWS_PER_READ = 1024


class ParquetFileError(InputError):
    """A file that pyarrow cannot open as Parquet (it becomes one error record)."""


def _parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            'reading Parquet needs pyarrow: pip install pyarrow (or pip install "spacy_scicls[ray]")'
        ) from None
    return pq


def _open(path: Path):
    pq = _parquet()
    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise ParquetFileError(f"not a readable Parquet file ({err})") from None


def parquet_columns(path: Path) -> List[str]:
    """The column names of a Parquet file (for the same header check as CSV)."""
    return list(_open(path).schema_arrow.names)


def parquet_num_rows(path: Path) -> int:
    return int(_open(path).metadata.num_rows)


def iter_parquet_records(
    path: Path,
    name: str,
    *,
    text_columns: Optional[Sequence[str]] = None,
    id_column: Optional[str] = None,
    max_chars: int = 1_000_000,
) -> Iterator[Record]:
    """One record per row, in file order; a file that cannot be read is one error record, and a
    file that breaks off mid-way gives an error record for the rest (as a malformed CSV does)."""
    try:
        file = _open(path)
    except ParquetFileError as err:
        yield Record(name, _error_loader(f"cannot read parquet: {err}"), name)
        return
    columns = list(file.schema_arrow.names)
    rowno = 0
    batches = file.iter_batches(batch_size=ROWS_PER_READ)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (OSError, ValueError) as err:
            fallback = f"{name}:{rowno + 1}"
            yield Record(
                fallback,
                _error_loader(f"cannot read parquet: {err} (the rest of the file is not read)"),
                fallback,
            )
            return
        for row in batch.to_pylist():
            rowno += 1
            fallback = f"{name}:{rowno}"
            row = {k: row.get(k) for k in columns}
            yield Record(_record_id(row, id_column, fallback), _json_loader(row, text_columns, None, max_chars, fallback), fallback)
