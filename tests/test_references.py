"""Reference lists printed for the heading-line scorer's papers (spacy_scicls.corpora.references)."""
import json

import pytest

from spacy_scicls.corpora.references import (LIST_HEADINGS, MAX_ENTRIES, Reference, format_reference,
                                             jats_references, reference_blocks, s2orc_references,
                                             unarxive_references)
from spacy_scicls.corpora.renderings import RENDERINGS, render

#: A JATS back matter written for these tests: one publisher-formatted entry, one by parts, one empty.
JATS = b"""<?xml version="1.0"?>
<article><body><sec><title>Introduction</title><p>Text [1].</p></sec></body>
<back><ref-list><title>References</title>
<ref id="r1"><label>1</label><mixed-citation>Okafor A, Chen B. Rain and <italic>soil</italic>. Hydrol Lett. 2019;4:1-9.</mixed-citation></ref>
<ref id="r2"><element-citation publication-type="journal">
  <person-group person-group-type="author">
    <name><surname>Lindqvist</surname><given-names>Maria K</given-names></name>
    <name><surname>Tanaka</surname><given-names>Y</given-names></name>
  </person-group>
  <article-title>Loam holds water twice as long as sand</article-title><source>Soil Science</source>
  <year>2021</year><volume>12</volume><fpage>33</fpage><lpage>41</lpage>
  <pub-id pub-id-type="doi">10.1000/soil.2021.33</pub-id>
</element-citation></ref>
<ref id="r3"><element-citation><person-group/></element-citation></ref>
</ref-list></back></article>"""


def test_jats_references_keep_a_formatted_entry_and_read_a_structured_one_by_parts():
    refs = jats_references(JATS)
    assert len(refs) == 2  # the entry with neither a title nor a source is left out
    assert refs[0].raw == "Okafor A, Chen B. Rain and soil. Hydrol Lett. 2019;4:1-9."
    second = refs[1]
    assert second.authors == (("Lindqvist", "Maria K"), ("Tanaka", "Y"))
    assert (second.year, second.source, second.volume, second.pages, second.doi) == \
        ("2021", "Soil Science", "12", "33\u201341", "10.1000/soil.2021.33")


@pytest.mark.parametrize("style,expected", [
    ("vancouver", "Lindqvist MK, Tanaka Y. Loam holds water twice as long as sand. Soil Science. 2021;12:33\u201341."),
    ("author_year", "Lindqvist, M. K., & Tanaka, Y. (2021). Loam holds water twice as long as sand. "
                    "Soil Science, 12, 33\u201341. https://doi.org/10.1000/soil.2021.33"),
    ("ieee", "M. K. Lindqvist, Y. Tanaka, \u201cLoam holds water twice as long as sand,\u201d "
             "Soil Science, vol. 12, pp. 33\u201341, 2021."),
])
def test_a_structured_entry_is_written_in_each_style(style, expected):
    assert format_reference(jats_references(JATS)[1], style) == expected


def test_a_raw_entry_is_kept_and_an_unknown_style_is_refused():
    assert format_reference(Reference(raw="  A  raw entry. 2020. "), "ieee") == "A raw entry. 2020."
    with pytest.raises(ValueError, match="unknown reference style"):
        format_reference(Reference(title="T", source="S"), "chicago")


def test_bib_entries_of_s2orc_and_unarxive(tmp_path):
    record = {"pdf_parse": {"bib_entries": {
        "b0": {"title": "Graphs of the literature", "authors": [{"first": "Waleed", "middle": ["E"], "last": "Ammar"}],
               "year": 2018, "venue": "NAACL", "pages": "84--91"},
        "b1": {"title": "", "venue": ""},  # nothing to print
    }}}
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    refs = s2orc_references(path)
    assert refs == [Reference(authors=(("Ammar", "Waleed E"),), year="2018", title="Graphs of the literature",
                              source="NAACL", pages="84\u201391")]
    raw = unarxive_references({"bib_entries": {"x": {"bib_entry_raw": "D. Jones. Fields, 1969."}}})
    assert raw == [Reference(raw="D. Jones. Fields, 1969.")]
    assert unarxive_references({}) == []


def test_reference_blocks_are_a_heading_and_one_wrapped_block_per_entry():
    refs = jats_references(JATS) * 40
    blocks = reference_blocks(refs, seed=3, width=50)
    assert blocks[0].kind == "heading" and blocks[0].lines[0] in LIST_HEADINGS
    entries = blocks[1:]
    assert len(entries) == MAX_ENTRIES and {b.kind for b in entries} == {"reference"}
    assert all(len(line) <= 50 for b in entries for line in b.lines)
    assert any(len(b.lines) > 1 for b in entries)
    assert reference_blocks(refs, seed=3, width=50) == blocks  # seeded
    assert reference_blocks([], seed=3, width=50) == []


def test_only_the_list_heading_is_gold_and_reflowing_joins_each_entry():
    blocks = reference_blocks(jats_references(JATS), seed=0, width=30)
    lines, gold = render(blocks, RENDERINGS["pdf_lines"])
    assert gold == {0}
    reflowed, gold = render(blocks, RENDERINGS["reflowed"])
    assert gold == {0} and len(reflowed) == 3  # the heading and the two entries, one line each
