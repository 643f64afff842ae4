import json
import re
from pathlib import Path

import numpy
import pytest
import spacy

from spacy_scicls.corpora.pdf_layout import (
    Block,
    PageStyle,
    draw_style,
    jats_floats,
    lay_out,
    paper_seed,
    reader_blocks,
    render_unarxive_markers,
    unarxive_floats,
    unarxive_records,
    unwrap,
    wrap,
)
from spacy_scicls.readers import read_paper

PAPERS = Path(__file__).parent / "fixtures" / "papers"

TEXT = ("Terrestrial exoplanets orbiting M-dwarf stars are promising targets for transmission spectroscopy with "
        "existing or near-future instrumentation, and the high-resolution cross-correlation technique has "
        "facilitated detections of water, carbon monoxide and hydrogen cyanide in hot Jupiters (Fig. 2a, b). "
        "Characterisation of their atmospheres, however, remains observationally challenging: an "
        "extraordinarily-long-hyphenated-compound and https://example.org/a/very/long/address/that/cannot/fit "
        "are kept whole.")


def _paper(n_sections=5, rng=None):
    rng = rng or numpy.random.default_rng(0)
    words = TEXT.split()
    blocks = []
    for s in range(n_sections):
        blocks.append(Block("heading", f"{s + 1} Section about topic number {s + 1} of the study", level=1))
        if s % 2:
            blocks.append(Block("heading", f"{s + 1}.1 A rather long sub-section heading that a narrow column "
                                           f"has to wrap over two lines", level=2))
        for _ in range(3):
            start = int(rng.integers(0, len(words) - 20))
            blocks.append(Block("paragraph", " ".join(words[start:start + int(rng.integers(10, 40))])))
    return blocks


@pytest.mark.parametrize("width", [12, 40, 55, 90, 125])
@pytest.mark.parametrize("seed", range(6))
def test_wrapping_keeps_every_word_in_order(width, seed):
    rng = numpy.random.default_rng(seed)
    lines, breaks = wrap(TEXT, width, rng, hyphen_rate=0.7, jitter=2, first_width=width // 2)
    assert len(breaks) == len(lines) - 1 and set(breaks) <= {"space", "hyphen", "at_hyphen"}
    assert unwrap(lines, breaks) == TEXT
    assert all(line and line == line.strip() for line in lines)
    for line in lines:
        # Only a single word that cannot be broken may overflow the line.
        assert len(line) <= max(width, 10) + 2 or " " not in line


def test_wrapping_breaks_words_with_hyphens_now_and_then():
    rng = numpy.random.default_rng(1)
    kinds = []
    for _ in range(20):
        lines, breaks = wrap(TEXT, 45, rng, hyphen_rate=0.7)
        kinds += breaks
        for line, after, kind in zip(lines, lines[1:], breaks):
            if kind == "hyphen":
                assert line.endswith("-") and after[:1].isalpha()
            if kind == "at_hyphen":
                assert line.endswith("-")
    assert kinds.count("hyphen") > 5 and kinds.count("space") > kinds.count("hyphen")
    # No hyphenation asked: no word split with an added hyphen.
    assert "hyphen" not in wrap(TEXT, 45, numpy.random.default_rng(1), hyphen_rate=0.0)[1]


def test_unwrap_refuses_inconsistent_breaks():
    with pytest.raises(ValueError):
        unwrap(["a", "b"], [])
    with pytest.raises(ValueError):
        unwrap(["a", "b"], ["hyphen"])


def test_wrap_needs_a_generator_for_randomness():
    assert wrap("", 40) == ([], [])
    with pytest.raises(ValueError):
        wrap(TEXT, 40, hyphen_rate=0.5)


@pytest.mark.parametrize("seed", range(8))
def test_gold_indices_are_the_heading_lines_and_text_stays_in_order(seed):
    blocks = _paper(rng=numpy.random.default_rng(seed))
    style = PageStyle(width=48, jitter=2, hyphen_rate=0.0, upper_top_headings=bool(seed % 2),
                      run_in_subheadings=seed % 4 >= 2)
    lines, gold = lay_out(blocks, seed, style=style)
    assert all(line.strip() for line in lines)
    # Group consecutive gold lines: each group is one heading, in order.
    groups, current = [], []
    for i, line in enumerate(lines):
        if i in gold:
            current.append(line)
        elif current:
            groups.append(" ".join(current))
            current = []
    headings = [b for b in blocks if b.kind == "heading"]
    # Two headings in a row (a section and its first sub-section) make one run of gold lines.
    expected, k = [], 0
    kinds = [b.kind for b in blocks]
    while k < len(blocks):
        if kinds[k] == "heading":
            run = []
            while k < len(blocks) and kinds[k] == "heading":
                text = blocks[k].text.upper() if style.upper_top_headings and blocks[k].level == 1 else blocks[k].text
                if style.run_in_subheadings and blocks[k].level >= 2:
                    text += "."
                run.append(text)
                k += 1
            expected.append(" ".join(run))
        else:
            k += 1
    assert groups == expected and len(headings) >= 5
    # Lines outside the headings are the paragraphs' words, in order (a word broken at one of its own
    # hyphens is joined without a space, so compare without white space).
    body = "".join(line for i, line in enumerate(lines) if i not in gold)
    assert "".join(body.split()) == "".join("".join(b.text for b in blocks if b.kind == "paragraph").split())
    # A long heading was wrapped over two lines at this width.
    assert any(i in gold and i + 1 in gold and not lines[i + 1][:1].isdigit() for i in range(len(lines)))


def test_run_in_subheading_shortens_the_first_line_of_its_paragraph():
    blocks = [Block("heading", "Cytotoxicity studies", level=2), Block("paragraph", TEXT)]
    plain, _ = lay_out(blocks, 0, style=PageStyle(width=60, jitter=0, hyphen_rate=0.0))
    run_in, gold = lay_out(blocks, 0, style=PageStyle(width=60, jitter=0, hyphen_rate=0.0, run_in_subheadings=True))
    assert plain[0] == "Cytotoxicity studies" and run_in[0] == "Cytotoxicity studies." and gold == {0}
    assert len(run_in[1]) <= 60 - len("Cytotoxicity studies.") - 1 < len(plain[1])


def test_floats_keep_together_and_in_order():
    blocks = _paper(n_sections=6)
    table = [Block("caption", "Table 1. Counts of beetles by island."),
             Block("table", cells=(("Island", "Beetles"), ("North", "12"), ("South", "7"))),
             Block("caption", "Counts are means of two visits.")]
    floats = [Block("caption", "Figure 1. Map of the islands."), table, Block("caption", "Figure 2. Rainfall.")]
    style = PageStyle(width=50, jitter=0, hyphen_rate=0.0, caption_width=100, join_table_rows=0.0,
                      float_in_paragraph=1.0)
    lines, gold = lay_out(blocks, 3, style=style, floats=floats)
    at = lines.index("Table 1. Counts of beetles by island.")
    assert lines[at + 1 : at + 8] == ["Island", "Beetles", "North", "12", "South", "7",
                                      "Counts are means of two visits."]
    assert lines.index("Figure 1. Map of the islands.") < at < lines.index("Figure 2. Rainfall.")
    assert not gold & {i for i, line in enumerate(lines) if line.startswith(("Figure", "Table", "Island"))}
    # Without the floats the lines are the same, less the floats' lines.
    without, _ = lay_out(blocks, 3, style=style)
    float_lines = {"Figure 1. Map of the islands.", "Figure 2. Rainfall.", "Table 1. Counts of beetles by island.",
                   "Island", "Beetles", "North", "12", "South", "7", "Counts are means of two visits."}
    assert " ".join(line for line in lines if line not in float_lines) == " ".join(without)


def test_layout_is_deterministic_for_a_seed():
    blocks = _paper()
    floats = [Block("caption", "Figure 1. " + TEXT)]
    first = lay_out(blocks, 11, floats=floats)
    assert lay_out(blocks, 11, floats=floats) == first
    others = [lay_out(blocks, seed, floats=floats) for seed in range(5)]
    assert any(other != first for other in others)
    assert draw_style(numpy.random.default_rng(4)) == draw_style(numpy.random.default_rng(4))
    assert paper_seed("a.xml", 0) == paper_seed("a.xml", 0) != paper_seed("a.xml", 1)


def test_drawn_styles_cover_one_and_two_columns():
    styles = [draw_style(numpy.random.default_rng(seed)) for seed in range(200)]
    widths = [s.width for s in styles]
    assert min(widths) >= 45 and max(widths) <= 125
    assert sum(w <= 70 for w in widths) > 80 and sum(w >= 80 for w in widths) > 50
    assert all(s.caption_width >= s.width for s in styles)


def test_block_kinds_are_checked():
    with pytest.raises(ValueError):
        Block("figure", "x")


def test_reader_blocks_leave_out_title_and_abstract():
    nlp = spacy.blank("en")
    doc = read_paper(PAPERS / "paper.jats.xml", nlp)
    blocks = reader_blocks(doc)
    assert [(b.kind, b.text, b.level) for b in blocks] == [
        ("heading", "Introduction", 1), ("paragraph", "Islands are natural laboratories [1].", 1),
        ("heading", "2 Materials and Methods", 1), ("paragraph", "We sampled each island twice.", 1),
        ("heading", "Study sites", 2), ("paragraph", "Twelve islands of the archipelago.", 1),
        ("heading", "Results and Discussion", 1), ("paragraph", "Counts rose with rainfall (Fig 1).", 1),
        ("heading", "Acknowledgments", 1), ("paragraph", "We thank the island wardens.", 1),
    ]
    lines, gold = lay_out(blocks, 0, floats=jats_floats(PAPERS / "paper.jats.xml"))
    assert {lines[i] for i in gold} >= {"Study sites", "Acknowledgments"} or any(
        lines[i].isupper() for i in gold)
    assert "Figure 1. Map of the islands." in " ".join(lines)


def test_jats_floats_read_captions_and_cells():
    floats = jats_floats(PAPERS / "paper.jats.xml")
    assert floats == [[Block("caption", "Figure 1. Map of the islands.")],
                      [Block("caption", "Table 1"), Block("table", cells=(("1", "2"),))]]


def test_unarxive_markers_and_captions():
    record = json.loads((PAPERS / "paper.unarxive.jsonl").read_text())
    record = dict(record, ref_entries={
        "f1": {"type": "formula", "latex": "\\rm R_\\oplus^{2}"},
        "x1": {"type": "figure", "caption": "Counts per {{cite:abc}} island."},
        "x2": {"type": "table", "caption": "NO_CAPTION"},
        "x3": {"type": "table", "caption": "Scores."},
    })
    numbers = {}
    text = render_unarxive_markers("Seen {{cite:abc}}, {{cite:def}} and {{cite:abc}} at {{formula:f1}} km "
                                   "{{figure:x1}}.", record, numbers)
    assert text == "Seen [1], [2] and [1] at R2 km ."
    assert numbers == {"abc": 1, "def": 2}
    assert unarxive_floats(record) == [Block("caption", "Figure 1: Counts per [1] island."),
                                       Block("caption", "Table 2: Scores.")]
    records = unarxive_records([PAPERS / "paper.unarxive.jsonl"])
    assert list(records) == ["2299.00001"]
    nlp = spacy.blank("en")
    doc = read_paper(PAPERS / "paper.unarxive.jsonl", nlp)
    blocks = reader_blocks(doc, lambda t: render_unarxive_markers(t, record, {}))
    assert not any(re.search(r"\{\{", b.text) for b in blocks)
    assert blocks[0] == Block("heading", "1 Introduction", 1)
