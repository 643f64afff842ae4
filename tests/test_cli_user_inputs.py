"""Inputs as users have them: funders' CSV exports with their own column names, Excel's CSV,
gzipped papers, archives, text in another encoding. Read without a pipeline (``load`` needs one
only for structured papers)."""
import json
from pathlib import Path

import pytest
import spacy

from spacy_scicls.cli.inputs import InputError, RecordError, check_inputs, iter_records

TITLE = "Drought attribution in the Mediterranean"
ABSTRACT = "We attribute the drying trend to warming, with CMIP6 models and station records."


def _texts(path: Path, **kwargs):
    nlp = spacy.blank("en")
    out = []
    for record in iter_records([str(path)], **kwargs):
        try:
            out.append((record.id, record.load(nlp)))
        except RecordError as err:
            out.append((record.id, f"ERROR {err}"))
    return out


@pytest.mark.parametrize(
    "header",
    [
        "AwardNumber,AwardTitle,AbstractNarration",  # NSF award search export
        "APPLICATION_ID,PROJECT_TITLE,ABSTRACT_TEXT",  # NIH RePORTER
        'ProjectReference,"Project Title",Abstract',  # UKRI Gateway to Research
        "Project_ID,Project_Title,Plain_English_Abstract,Scientific_Abstract",  # NIHR: the scientific one is read
        "id,title,objective",  # CORDIS projects (ERC and other EU grants)
    ],
)
def test_funder_exports_are_read_without_text_columns(tmp_path, header):
    path = tmp_path / "awards.csv"
    n_columns = header.count(",") + 1
    lay = ["A lay summary."] if n_columns == 4 else []
    row = ",".join(['"2145678"', f'"{TITLE}"', *[f'"{v}"' for v in lay], f'"{ABSTRACT}"'])
    path.write_text(header + "\n" + row + "\n", encoding="utf8")
    check_inputs([str(path)])
    assert _texts(path) == [("2145678", f"{TITLE}\n\n{ABSTRACT}")]


def test_jsonl_records_with_capitalised_fields(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"ProjectId": "P-1", "Title": TITLE, "Abstract": ABSTRACT}) + "\n", encoding="utf8")
    assert _texts(path) == [("P-1", f"{TITLE}\n\n{ABSTRACT}")]


def test_columns_given_still_win_and_unknown_columns_are_refused_clearly(tmp_path):
    path = tmp_path / "awards.csv"
    path.write_text("AwardTitle,AbstractNarration,Notes\nT,A,N\n", encoding="utf8")
    assert _texts(path, text_columns=["Notes"]) == [("awards.csv:1", "N")]
    other = tmp_path / "other.csv"
    other.write_text("key,headline,body\n1,T,A\n", encoding="utf8")
    with pytest.raises(InputError, match="no text, title or abstract column; pass --text-columns"):
        check_inputs([str(other)])


@pytest.mark.parametrize(
    "data,name",
    [
        ("\ufeffid;title;abstract\r\nX1;Caf\u00e9 drought;\"Rain; heat, and soil.\"\r\n".encode("utf8"), "excel.csv"),
        (b"id\ttitle\tabstract\nX1\tCaf\xc3\xa9 drought\tRain; heat, and soil.\n", "tabs.csv"),
        (b"id\ttitle\tabstract\nX1\tCaf\xc3\xa9 drought\tRain; heat, and soil.\n", "tabs.tsv"),
    ],
)
def test_csv_separator_is_read_from_the_header(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data)
    check_inputs([str(path)])
    assert _texts(path) == [("X1", "Caf\u00e9 drought\n\nRain; heat, and soil.")]


def test_comma_csv_with_semicolons_in_quoted_header_stays_comma(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('id,"notes; misc",title,abstract\nX1,n; m,T,"A; b; c"\n', encoding="utf8")
    assert _texts(path) == [("X1", "T\n\nA; b; c")]
