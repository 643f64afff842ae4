"""What the pipeline wrote on a doc, as plain data, so that two runs can be compared."""
from spacy.tokens import Doc


def annotations(doc: Doc) -> dict:
    return {
        "sections": [
            (s.start_char, s.end_char, s.label_, s._.heading, round(s._.section_score, 4))
            for s in doc.spans.get("sections", [])
        ],
        "cats": {k: round(v, 4) for k, v in sorted(doc.cats.items())},
        "labels": doc._.scicls_labels,
        "ents": [(e.start_char, e.end_char, e.label_, round(e._.entity_score, 4)) for e in doc.ents],
    }
