"""Readers: each format into a Doc with sections, headings and metadata; bad
input gives a ReaderError naming the file; hostile XML is refused."""
import json
from pathlib import Path

import pytest
import spacy

import spacy_scicls  # noqa: F401 (installs the extensions)
from spacy_scicls.readers import FORMATS, ReaderError, detect_format, read_paper, read_papers

PAPERS = Path(__file__).parent / "fixtures" / "papers"


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def sections(doc):
    return [(s._.heading, s.label_, s._.section_level) for s in doc.spans["sections"]]


def test_formats_contract():
    assert FORMATS == ("jats", "tei", "s2orc", "unarxive", "markdown", "text", "pdf", "latex", "html")
    assert issubclass(ReaderError, ValueError)


@pytest.mark.parametrize(
    "name,fmt",
    [
        ("paper.jats.xml", "jats"),
        ("paper.tei.xml", "tei"),
        ("paper.unarxive.jsonl", "unarxive"),
        ("paper.s2orc.json", "s2orc"),
        ("paper.md", "markdown"),
        ("paper.txt", "text"),
    ],
)
def test_detect_format_from_name_and_bytes(name, fmt):
    data = (PAPERS / name).read_bytes()
    assert detect_format(PAPERS / name, data[:2048]) == fmt
    if fmt not in ("text",):
        # The first bytes alone are enough for all but plain text.
        assert detect_format("upload", data[:2048]) == fmt


def test_detect_format_refuses_unknown_xml():
    with pytest.raises(ReaderError, match="neither JATS"):
        detect_format("x.xml", b"<?xml version='1.0'?><rss></rss>")


def test_jats(nlp):
    doc = read_paper(PAPERS / "paper.jats.xml", nlp)
    assert sections(doc) == [
        ("Abstract", "abstract", 1),
        ("Introduction", "introduction", 1),
        ("2 Materials and Methods", "methods", 1),
        ("Study sites", "unlabelled", 2),
        ("Results and Discussion", "unlabelled", 1),
        ("Acknowledgments", "other", 1),
    ]
    meta = doc._.scicls_meta
    assert meta["id"] == "10.0000/fixture.0001"
    assert meta["title"] == "Rainfall and beetles on small islands"
    assert meta["abstract"] == "We counted beetles on twelve islands\u2013and compared the counts with rainfall."
    assert meta["categories"] == ["Research Article", "Ecology"]
    assert meta["format"] == "jats" and meta["source"].endswith("paper.jats.xml")
    assert doc.text.startswith("Rainfall and beetles on small islands\n\nAbstract\nWe counted")
    # Headings on their own lines; figures, tables and references left out.
    assert "\nStudy sites\nTwelve islands of the archipelago." in doc.text
    assert "Map of the islands" not in doc.text and "Someone. Islands" not in doc.text
    for span in doc.spans["sections"]:
        assert span.text.startswith(span._.heading)


def test_tei(nlp):
    doc = read_paper(PAPERS / "paper.tei.xml", nlp)
    assert sections(doc) == [
        ("Abstract", "abstract", 1),
        ("1 Introduction", "unlabelled", 1),
        ("2 Our Approach", "unlabelled", 1),
        ("2.1 Encoder", "unlabelled", 2),
        ("3 Experiments", "unlabelled", 1),
        ("Acknowledgments", "other", 1),
    ]
    assert doc._.scicls_meta["title"] == "Parsing Tables with Small Models"
    assert doc._.scicls_meta["id"] == "10.0000/fixture.0002"
    assert "We read rows and columns." in doc.text
    assert "A cited paper" not in doc.text


def test_grobid_training_tei_without_divs(nlp):
    tei = b"<tei><teiHeader/><text><head>1. INTRODUCTION<lb/></head><p>First<lb/> line.</p><head>2. DATA</head><p>More.</p></text></tei>"
    doc = read_paper(tei, nlp, format="tei", name="training-file")
    assert [s._.heading for s in doc.spans["sections"]] == ["1. INTRODUCTION", "2. DATA"]
    assert doc.text == "1. INTRODUCTION\nFirst line.\n\n2. DATA\nMore."


def test_unarxive(nlp):
    doc = read_paper(PAPERS / "paper.unarxive.jsonl", nlp)
    assert sections(doc) == [
        ("Abstract", "abstract", 1),
        ("1 Introduction", "unlabelled", 1),
        ("2 Method", "unlabelled", 1),
        ("2.1 Tokenization", "unlabelled", 2),
        ("3 Conclusion", "unlabelled", 1),
    ]
    meta = doc._.scicls_meta
    assert meta["categories"] == ["cs.CL", "cs.LG"] and meta["id"] == "2299.00001"
    # The fixture's bibliography and formula table are empty: the markers still leave the text.
    assert "Counting is hard [1].\n\nNoise makes it harder." in doc.text
    assert "We use a counter [formula]." in doc.text and "{{" not in doc.text
    assert meta["references"] == [None]
    # An already parsed record gives the same doc.
    record = json.loads((PAPERS / "paper.unarxive.jsonl").read_text())
    assert read_paper(record, nlp).text == doc.text


def test_unarxive_markers_resolved_from_the_record(nlp):
    record = json.loads((PAPERS / "paper.unarxive.jsonl").read_text())
    record["abstract"]["text"] = "As {{cite:b2}} showed."
    record["body_text"][0]["text"] = "Counting {{cite:b1}} is hard {{cite:b2}}, {{cite:b1}}.{{figure:f1}}"
    record["body_text"][2]["text"] = "We use {{formula:x}} and {{formula:gone}}."
    record["bib_entries"] = {"b1": {"bib_entry_raw": "Ann  Lee. Counting. 2001."}, "b2": {"bib_entry_raw": "Bo Li. Noise. 2003."}}
    record["ref_entries"] = {"x": {"type": "formula", "latex": "n \\leq  k"},
                             "f1": {"type": "figure", "caption": "Counts."}}
    doc = read_paper(record, nlp)
    # Numbered by first citation, the abstract included; the figure's place leaves no trace.
    assert "As [1] showed." in doc.text
    assert "Counting [2] is hard [1], [2].\n\n" in doc.text
    assert "We use n \\leq k and [formula]." in doc.text
    assert doc._.scicls_meta["references"] == ["Bo Li. Noise. 2003.", "Ann Lee. Counting. 2001."]


def test_s2orc(nlp):
    doc = read_paper(PAPERS / "paper.s2orc.json", nlp)
    assert sections(doc) == [
        ("Abstract", "abstract", 1),
        ("INTRODUCTION", "unlabelled", 1),
        ("METHODS", "unlabelled", 1),
        ("RESULTS", "unlabelled", 1),
        ("Funding", "other", 1),
    ]
    assert doc._.scicls_meta["title"] == "Sleep in Shift Workers"


def test_markdown(nlp):
    doc = read_paper(PAPERS / "paper.md", nlp)
    assert doc._.scicls_meta["title"] == "Measuring Glacier Retreat from Photographs"
    assert doc._.scicls_meta["abstract"] == "We measure glacier retreat from old photographs."
    assert [(h, lvl) for h, _, lvl in sections(doc)] == [
        ("Abstract", 1), ("1 Introduction", 1), ("2 Methods", 1), ("2.1 Photographs", 2), ("3 Results", 1)
    ]
    assert "# not a heading" in doc.text


def test_text_is_kept_as_given(nlp):
    raw = (PAPERS / "paper.txt").read_text()
    doc = read_paper(PAPERS / "paper.txt", nlp)
    assert doc.text == raw
    assert "sections" not in doc.spans
    assert doc._.scicls_meta["format"] == "text"
    assert read_paper(raw, nlp, format="text").text == raw


def test_content_given_as_str_and_bytes(nlp):
    data = (PAPERS / "paper.tei.xml").read_bytes()
    a = read_paper(data, nlp, name="mine")
    b = read_paper(data.decode(), nlp, format="tei")
    assert a.text == b.text and a._.scicls_meta["source"] == "mine"


@pytest.mark.parametrize("name,message", [
    ("malformed.jats.xml", r"malformed\.jats\.xml: malformed XML: mismatched tag: line 3"),
    ("malformed.s2orc.json", r"malformed\.s2orc\.json: malformed JSON at line 1"),
])
def test_malformed_files_name_the_file_and_the_problem(nlp, name, message):
    with pytest.raises(ReaderError, match=message):
        read_paper(PAPERS / name, nlp)


@pytest.mark.parametrize("content,fmt,message", [
    (b"", "jats", "paper-x: is empty"),
    (b"   ", "s2orc", "paper-x: is empty"),
    (b"<html/>", "jats", "paper-x: is not JATS"),
    (b"<article/>", "tei", "paper-x: is not TEI"),
    (b'{"title": "no body"}', "s2orc", "paper-x: has no body_text"),
    (b'[1, 2]', "s2orc", r"paper-x \(record 1\): is a JSON int"),
    (b'{"body_text": 3}', "unarxive", "paper-x: body_text is a int"),
    (b"\xff\xfe\x00", "text", "paper-x: is not UTF-8"),
    (b"x", "pdf", r"paper-x: not a PDF \(no %PDF- header\)"),
    (b"x", "docx", "paper-x: unknown format 'docx'"),
])
def test_bad_input_gives_reader_error(nlp, content, fmt, message):
    with pytest.raises(ReaderError, match=message):
        read_paper(content, nlp, format=fmt, name="paper-x")


def test_missing_file(nlp, tmp_path):
    with pytest.raises(ReaderError, match="nowhere.xml: cannot be read"):
        read_paper(tmp_path / "nowhere.xml", nlp)


def test_empty_paper(nlp):
    doc = read_paper(PAPERS / "empty.txt", nlp)
    assert len(doc) == 0 and doc._.scicls_meta["format"] == "text"
    empty_jats = read_paper(b"<article><front/><body/></article>", nlp, format="jats", name="e")
    assert empty_jats.text == "" and len(empty_jats.spans["sections"]) == 0


def test_several_records(nlp):
    line = (PAPERS / "paper.unarxive.jsonl").read_text().strip()
    data = (line + "\n" + line + "\n").encode()
    docs = list(read_papers(data, nlp, format="unarxive", name="two"))
    assert len(docs) == 2 and docs[1]._.scicls_meta["source"] == "two (record 2)"
    with pytest.raises(ReaderError, match="two: holds several papers"):
        read_paper(data, nlp, format="unarxive", name="two")


# -- hostile XML --------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE article [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<article><body><sec><title>&lol9;</title><p>x</p></sec></body></article>
"""


def test_entity_expansion_is_refused(nlp):
    with pytest.raises(ReaderError, match="bomb.xml: unsafe XML refused: the document declares the entity 'lol'"):
        read_paper(BILLION_LAUGHS, nlp, format="jats", name="bomb.xml")


def test_external_entity_is_refused(nlp, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    xml = (
        f'<?xml version="1.0"?>\n<!DOCTYPE TEI [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
        '<TEI><text><body><div><head>Intro</head><p>&xxe;</p></div></body></text></TEI>'
    ).encode()
    with pytest.raises(ReaderError, match="xxe.xml: unsafe XML refused: the document declares the entity 'xxe'"):
        read_paper(xml, nlp, format="tei", name="xxe.xml")


def test_external_dtd_is_not_fetched(nlp, tmp_path):
    # A DTD that would define an entity, named by a local file URL: a parser
    # that fetched it would put its text into the paper.
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "FETCHED FROM THE DTD">')
    xml = (
        f'<?xml version="1.0"?>\n<!DOCTYPE article SYSTEM "{dtd.as_uri()}">\n'
        '<article><body><sec><title>Intro</title><p>a &leak; b &ndash; c</p></sec></body></article>'
    ).encode()
    doc = read_paper(xml, nlp, format="jats", name="dtd.xml")
    assert "FETCHED" not in doc.text
    assert "a &leak; b \u2013 c" in doc.text  # unknown entity kept as text, known one from the HTML5 table


def test_parameter_entities_are_refused(nlp, tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "FETCHED">')
    xml = f'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]><article/>'.encode()
    with pytest.raises(ReaderError, match="unsafe XML refused: the document declares the entity 'ext'"):
        read_paper(xml, nlp, format="jats", name="pe.xml")
