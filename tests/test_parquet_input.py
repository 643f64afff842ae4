"""Parquet records in: the same records (ids, texts, errors) as the same rows in JSONL."""
import json

import pyarrow as pa  # the set-up (make) installs the ray extra, which brings pyarrow
import pyarrow.parquet as pq
import pytest

from cli_corpus import write_records
from spacy_scicls.cli.inputs import InputError, RecordError, check_inputs, count_records, iter_records


def _texts(records):
    out = []
    for record in records:
        try:
            out.append((record.id, record.load(None), None))
        except RecordError as err:
            out.append((record.id, None, str(err)))
    return out


def test_parquet_rows_are_the_records_of_the_same_jsonl(tmp_path):
    jsonl = tmp_path / "records.jsonl"
    write_records(jsonl, 120)
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    parquet = tmp_path / "records.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet, row_group_size=25)
    assert count_records([str(parquet)]) == 120
    assert _texts(iter_records([str(parquet)])) == _texts(iter_records([str(jsonl)]))
    assert any(error == "empty text" for _, _, error in _texts(iter_records([str(parquet)])))


def test_parquet_columns_ids_and_bad_files(tmp_path):
    table = pa.Table.from_pylist(
        [
            {"AwardID": 7, "Title": "Drought", "Abstract": "Heat waves in Europe.", "Amount": 1.5},
            {"AwardID": None, "Title": None, "Abstract": "Rainfall in Africa.", "Amount": None},
        ]
    )
    path = tmp_path / "awards.parquet"
    pq.write_table(table, path)
    got = _texts(iter_records([str(path)], text_columns=["Title", "Abstract"], id_column="AwardID"))
    # An integer id is written as text; a row without one gets <file>:<row>.
    assert got == [("7", "Drought\n\nHeat waves in Europe.", None), ("awards.parquet:2", "Rainfall in Africa.", None)]
    with pytest.raises(InputError, match="no column 'Text'"):
        check_inputs([str(path)], text_columns=["Text"])
    # Title, Abstract and AwardID are found by their names (as in CSV) when no columns are given.
    check_inputs([str(path)])
    assert _texts(iter_records([str(path)])) == got

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not a parquet file")
    check_inputs([str(broken)])  # not refused: the file gets an error record, the run goes on
    assert count_records([str(broken)]) == 1
    [record] = list(iter_records([str(broken)]))
    with pytest.raises(RecordError, match="cannot read parquet"):
        record.load(None)
