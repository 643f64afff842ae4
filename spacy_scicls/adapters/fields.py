"""Title and abstract of a doc, the fields that the seed models' input recipes join."""
from typing import Callable, Dict, List

from spacy.tokens import Doc
from spacy.util import registry

from ..segmentation.rule_based import find_heading_lines

ABSTRACT_HEADINGS = {"abstract", "summary"}


@registry.misc("spacy_scicls.title_and_abstract.v1")
def make_title_and_abstract_v1(spans_key: str = "sections") -> Callable[[Doc], Dict[str, str]]:
    """doc -> ``{"title", "abstract", "text"}``.

    The title is the doc's first non-empty line when the doc has more than one
    line (a one-line doc is all abstract). The abstract is the section labelled
    ``abstract`` in ``doc.spans[spans_key]`` when there is one, without its
    heading; else the text after the title, without a leading "Abstract"
    heading line. ``text`` is the whole text.
    """

    def get_fields(doc: Doc) -> Dict[str, str]:
        text = doc.text
        lines: List[str] = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) < 2:
            return {"title": "", "abstract": text.strip(), "text": text}
        title = lines[0]
        start = text.index(title) + len(title)
        abstract = None
        for span in doc.spans.get(spans_key, []):
            if span.label_ == "abstract":
                body = span.text
                heading = span._.heading
                if heading and body.lstrip().startswith(heading):
                    body = body.lstrip()[len(heading):]
                abstract = body.strip()
                break
        if abstract is None:
            rest = text[start:]
            headings = find_heading_lines(rest)
            if headings:
                first_start, first_end = headings[0]
                if not rest[:first_start].strip() and rest[first_start:first_end].strip().rstrip(":").lower() in ABSTRACT_HEADINGS:
                    rest = rest[first_end:]
                    # The abstract ends where the next heading begins.
                    if len(headings) > 1:
                        rest = rest[: headings[1][0] - first_end]
            abstract = rest.strip()
        return {"title": title, "abstract": abstract, "text": text}

    return get_fields
