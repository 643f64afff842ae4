"""A tokenizer that reads a long run of punctuation in pieces, so that one junk line cannot stall a corpus.

spaCy's tokenizer strips a token's prefixes and suffixes one character at a time and searches what is left
again after each, so a run of punctuation with no space in it takes time that grows with the square of its
length: on one core 8,000 ``=`` take about 18 s and 8,000 ``_`` about 11 s, so a 100,000-character rule
drawn with ``=`` (a text dump, a broken conversion) would hold a worker for most of an hour. Runs of letters
and digits (a DNA sequence, a URL, base64) are read in linear time and are left alone.

:class:`RunSplittingTokenizer` wraps a pipeline's tokenizer: every run of more than ``max_run`` punctuation
characters (anything but letters, digits and white space; ``_`` counts as punctuation) is cut into pieces of
``max_run`` before the tokenizer reads it, and the pieces' docs are joined. The doc's text is the input text,
character for character, and the text outside such runs is tokenized as before. ``scicls annotate`` (both
engines) installs it when it loads a pipeline; :func:`split_long_runs` installs it on any ``nlp``.
"""
import re
from typing import Any, Iterable, Iterator

from spacy.tokens import Doc

#: Longer runs of punctuation than this are read in pieces of this length (500 ``=`` take about 0.07 s, first
#: read; the tokenizer caches a piece it has read).
MAX_RUN = 500


class RunSplittingTokenizer:
    """``tokenizer``, with runs of more than ``max_run`` punctuation characters read in pieces.

    Serialization and every other attribute are the wrapped tokenizer's, so a pipeline saved with it is saved
    with its own tokenizer, and its fingerprint is unchanged."""

    def __init__(self, tokenizer: Any, max_run: int = MAX_RUN) -> None:
        if max_run < 1:
            raise ValueError("max_run must be at least 1")
        self.tokenizer = tokenizer
        self.max_run = int(max_run)
        self._run = re.compile(r"(?:[^\w\s]|_){%d,}" % (self.max_run + 1))

    def __call__(self, text: str) -> Doc:
        if len(text) <= self.max_run or self._run.search(text) is None:
            return self.tokenizer(text)
        pieces = []
        position = 0
        for run in self._run.finditer(text):
            pieces.append(text[position : run.start()])
            pieces += [text[k : min(k + self.max_run, run.end())] for k in range(run.start(), run.end(), self.max_run)]
            position = run.end()
        pieces.append(text[position:])
        return Doc.from_docs([self.tokenizer(piece) for piece in pieces if piece], ensure_whitespace=False)

    def pipe(self, texts: Iterable[str], batch_size: int = 1000) -> Iterator[Doc]:
        for text in texts:
            yield self(text)

    def __getattr__(self, name: str) -> Any:
        # Only reached for what this class lacks (vocab, to_bytes, to_disk, explain, ...): the tokenizer's.
        if name == "tokenizer":  # not set yet (while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.tokenizer, name)


def split_long_runs(nlp, max_run: int = MAX_RUN):
    """Install :class:`RunSplittingTokenizer` on ``nlp`` (once) and return ``nlp``."""
    if not isinstance(nlp.tokenizer, RunSplittingTokenizer):
        nlp.tokenizer = RunSplittingTokenizer(nlp.tokenizer, max_run)
    return nlp
