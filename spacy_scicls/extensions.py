"""Custom attributes that spacy_scicls writes on ``Doc`` and ``Span``.

Installed once, idempotently, whenever a component module is imported. No
``force=True``: if another library (or an older copy of this one) already
defined an attribute of the same name we keep it rather than silently
replacing its getter. Defaults are immutable (``None``) on purpose: a mutable
default such as ``{}`` would be shared by every document.

``Span._.heading`` (str | None)
    The heading text of a section in ``doc.spans["sections"]``; ``None`` for
    text before the first heading.
``Span._.section_score`` (float | None)
    Probability of the section's IMRaD label.
``Span._.entity_score`` (float | None)
    Probability of an entity's label, for entities set by ``scicls_entities``.
``Span._.section_level`` (int | None)
    Depth of a section in the paper's structure (1: a top-level section,
    2: one of its sub-sections, ...), where a reader or the heading rules
    could tell it.
``Doc._.scicls_meta`` (dict | None)
    What a reader of :mod:`spacy_scicls.readers` found about the paper:
    ``id``, ``title``, ``abstract``, ``categories`` (list), ``format``
    (one of ``spacy_scicls.readers.FORMATS``) and ``source`` (file name or
    the name given to the reader).
``Doc._.scicls_labels`` (dict | None)
    Decided labels per taxonomy, e.g. ``{"erc": ["PE6"], "arxiv": ["cs.CL"]}``:
    the codes whose probability passed the head's threshold, most probable
    first, and the groups they roll up to under the group taxonomy's name
    (``"hrcs_rag"``, ``"erc_domain"``, ``"arxiv_archive"``).
``Doc._.scicls_certainty`` (dict | None)
    Per taxonomy, how far the document is from changing any decision (see
    :mod:`spacy_scicls.decisions`); small values mark documents for review.
"""
from spacy.tokens import Doc, Span

SPAN_EXTENSIONS = ("heading", "section_score", "entity_score", "section_level")
DOC_EXTENSIONS = ("scicls_labels", "scicls_certainty", "scicls_meta")


def install_extensions() -> None:
    for name in SPAN_EXTENSIONS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)
    for name in DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)
