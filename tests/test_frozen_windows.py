"""The frozen-encoder cache reads the span window of the transformer's span getter."""
from spacy.util import registry

from spacy_scicls.training.frozen import span_window


def test_span_window_of_strided_spans():
    strided = registry.span_getters.get("spacy-transformers.strided_spans.v1")
    assert span_window(strided(window=256, stride=192)) == 256
    assert span_window(strided(window=128, stride=96)) == 128


def test_span_window_without_one():
    assert span_window(None) is None
    sents = registry.span_getters.get("spacy-transformers.sent_spans.v1")
    assert span_window(sents()) is None
