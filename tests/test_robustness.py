"""Batch size does not change annotations; odd texts go through."""
import pytest

from annotations import annotations
from tiny_data import PAPERS

TEXTS = [paper[0] for paper in PAPERS] + [
    "",
    "   \n\n \t ",
    "Drought",
    "Abstract\n",
    "# Markdown title\n\n## Methods\nWe measure rainfall.\n",
    "Résumé en français : la sécheresse augmente en Europe.\n\n1 Introduction\nLe climat change.",
    "\x00\x01 binary \ufffd junk \x7f",
]


def _close(a, b, tol=1e-3):
    """Same labels and offsets; scores within tol (padding changes float rounding)."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tol
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    return a == b


def test_batch_sizes_1_and_64_give_the_same_annotations(trained):
    nlp, _, _ = trained
    one = [annotations(doc) for doc in nlp.pipe(TEXTS, batch_size=1)]
    many = [annotations(doc) for doc in nlp.pipe(TEXTS, batch_size=64)]
    for text, a, b in zip(TEXTS, one, many):
        assert _close(a, b), text[:40]


@pytest.mark.parametrize("text", ["", "   \n\n \t ", "Drought"])
def test_tiny_texts(trained, text):
    nlp, _, _ = trained
    doc = nlp(text)
    assert len(doc.spans["sections"]) == (1 if text.strip() else 0)
    # Every category head still reports every one of its labels.
    for name in ("erc", "arxiv", "hrcs_rac", "hrcs_hc"):
        pipe = nlp.get_pipe(name)
        assert all(key in doc.cats for key in pipe.cat_keys)
        assert pipe.taxonomy.name in doc._.scicls_labels
    assert all(0.0 <= value <= 1.0 for value in doc.cats.values())


def test_a_text_of_50000_words(trained):
    nlp, _, _ = trained
    paragraph = (
        "Drought in Europe increases under CMIP6 simulations while rainfall in Africa follows ENSO. "
    )
    # Each section's text of its own words: the same line coming back in every section would read as
    # a running header (docs/sections.md).
    topics = [f"{a} {b}" for a in ("Rainfall", "Drought", "Heat", "Soil", "Wind") for b in
              ("in spring", "in summer", "in autumn", "in winter", "at sea", "in the hills", "in towns")]
    body = "\n\n".join(f"{i} {topics[i - 1]}\n" + f"{topics[i - 1]}: " + paragraph * 110 for i in range(1, 36))
    text = "A long paper\n\nAbstract\n" + paragraph + "\n\n" + body
    n_words = len(text.split())
    assert n_words >= 50_000
    doc = nlp(text)
    sections = doc.spans["sections"]
    assert len(sections) == 36  # the title line above "Abstract" is front matter, not a section
    assert sections[-1].end_char >= len(text.rstrip()) - 1
    assert [sections[i]._.heading for i in range(2)] == ["Abstract", "1 Rainfall in spring"]
    assert all(ent.end - ent.start <= nlp.get_pipe("entities").max_width for ent in doc.ents)


@pytest.mark.slow
def test_n_process_2_gives_the_same_annotations(trained, monkeypatch):
    """Worker processes are forked; torch's thread pool does not survive a
    fork, so torch must run one thread per process before the fork (with
    several threads the workers hang)."""
    import torch

    nlp, _, _ = trained
    one = [annotations(doc) for doc in nlp.pipe(TEXTS, batch_size=2, n_process=1)]
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        two = [annotations(doc) for doc in nlp.pipe(TEXTS, batch_size=2, n_process=2)]
    finally:
        torch.set_num_threads(threads)
    assert len(one) == len(two) and all(_close(a, b) for a, b in zip(one, two))
