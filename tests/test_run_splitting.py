"""Long runs of punctuation are read in pieces (spacy_scicls.run_splitting): the doc's text stays the input
text, the rest of the text is tokenized as before, and the pipelines that scicls annotate loads have it."""
import pickle

import pytest
import spacy

from spacy_scicls.run_splitting import MAX_RUN, RunSplittingTokenizer, split_long_runs


class _Recording:
    """A tokenizer that notes the longest text it was given."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.longest = 0

    def __call__(self, text):
        self.longest = max(self.longest, len(text))
        return self.tokenizer(text)


TEXTS = [
    "Rain fell on the plain (see Fig. 2).\n" + "=" * 1500 + "\nThen it stopped, as 2.5 mm/h showed.",
    "=" * (MAX_RUN + 1),
    "a <" + "<>" * 400 + "> b\n\n" + "_" * 1200 + " signed\t" + "-.-" * 300,
    "  leading " + "*" * 1001 + "  trailing white space  \n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_a_long_run_is_read_in_pieces_and_the_text_is_kept(text):
    nlp = spacy.blank("en")
    recording = _Recording(nlp.tokenizer)
    doc = RunSplittingTokenizer(recording)(text)
    assert doc.text == text
    assert recording.longest < len(text)
    words = [t.text for t in doc if not t.is_space]
    plain = [t.text for t in nlp.tokenizer(text) if not t.is_space]
    # Outside the runs the tokens are those of the tokenizer alone: the same words of letters and digits.
    assert [w for w in words if any(c.isalnum() for c in w)] == [w for w in plain if any(c.isalnum() for c in w)]


def test_the_tokenizer_never_reads_a_run_longer_than_the_bound():
    nlp = spacy.blank("en")
    recording = _Recording(nlp.tokenizer)
    text = "Intro. " + "=" * 5000 + " middle " + "<" * 1700 + "\n" + "x" * 2000
    doc = RunSplittingTokenizer(recording)(text)
    assert doc.text == text
    # The letters' run (2,000 "x") is one piece of its own, as a DNA sequence or a URL would be: not cut.
    assert recording.longest == len("\n" + "x" * 2000)
    assert [t.text for t in doc][-1] == "x" * 2000


def test_text_without_long_runs_is_tokenized_as_before():
    nlp = spacy.blank("en")
    wrapped = RunSplittingTokenizer(nlp.tokenizer)
    for text in ["", "Results", "A DNA probe: " + "ACGT" * 600 + ".", "see https://example.org/" + "a/" * 300,
                 "===== Methods =====\n" + "-" * MAX_RUN]:
        doc, plain = wrapped(text), nlp.tokenizer(text)
        assert [(t.text, t.whitespace_) for t in doc] == [(t.text, t.whitespace_) for t in plain]


def test_it_saves_and_pickles_as_the_tokenizer_it_wraps(tmp_path):
    nlp = split_long_runs(spacy.blank("en"))
    assert split_long_runs(nlp).tokenizer is nlp.tokenizer  # installed once
    inner = nlp.tokenizer.tokenizer
    assert nlp.tokenizer.to_bytes(exclude=["vocab"]) == inner.to_bytes(exclude=["vocab"])
    assert nlp.tokenizer.vocab is nlp.vocab
    again = pickle.loads(pickle.dumps(nlp.tokenizer))
    assert again("a " + "=" * 2000).text == "a " + "=" * 2000
    nlp.to_disk(tmp_path / "pipeline")
    assert spacy.load(tmp_path / "pipeline")("x " + "=" * 700 + " y").text == "x " + "=" * 700 + " y"
    with pytest.raises(ValueError):
        RunSplittingTokenizer(inner, 0)


def test_the_command_line_loads_pipelines_with_it(tmp_path):
    from spacy_scicls.cli.app import load_pipeline

    spacy.blank("en").to_disk(tmp_path / "pipeline")
    nlp = load_pipeline(str(tmp_path / "pipeline"))
    assert isinstance(nlp.tokenizer, RunSplittingTokenizer)
    text = "Junk:\n" + "=" * 20000 + "\nEnd."
    assert nlp(text).text == text
