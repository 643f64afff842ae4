"""Silver IMRaD labels from section headings, and section training corpora.

:func:`heading_label` normalises a heading ("3. Materials and Methods",
"RESULTS AND DISCUSSION", "5 Experiments", "Acknowledgements") to one of
:data:`spacy_scicls.labels.IMRAD_LABELS`, or ``None`` when the heading does
not say ("2 Structure of the Literature Graph"). A heading that names
several roles gets the first one it names ("Results and Discussion" is
results, "Background and Related Work" is introduction).
:func:`silver_labels` labels every section of a doc: by its own heading,
else, for a sub-section, by its parent's label; sections that neither
labels are left ``None`` (not used for training).

The NLM list of structured-abstract headings (optional, see
:func:`load_nlm_heading_map`) adds the headings of structured abstracts
and of clinical papers (OBJECTIVE, DESIGN, PARTICIPANTS, ...).
"""
import re
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example
from spacy.util import registry

from ..labels import IMRAD_LABELS

# Patterns of each role, matched as whole words on a lower-cased heading
# without its number. The earliest match in the heading wins; at the same
# position the longer match wins.
PATTERNS: Dict[str, Tuple[str, ...]] = {
    "abstract": (r"abstract", r"summary", r"author summary", r"synopsis"),
    "introduction": (r"introduction", r"intro", r"background", r"motivation", r"overview", r"preface",
                     r"problem statement", r"objectives?", r"aims?", r"purpose"),
    "related_work": (r"related works?", r"related literature", r"previous works?", r"prior works?",
                     r"literature (?:review|survey)", r"review of (?:the )?literature", r"state of the art",
                     r"relation to (?:prior|previous) work", r"comparison with related"),
    "methods": (r"methods?", r"methodology", r"methodologies", r"materials?", r"experimental (?:setup|set-up|"
                r"design|procedures?|section|details|methods?|protocol|framework|settings?)", r"setup", r"set-up",
                r"approach(?:es)?", r"our approach", r"proposed (?:method|model|approach|framework|system)",
                r"models?", r"model description", r"study design", r"design", r"patients", r"participants",
                r"subjects", r"study (?:area|site|population|sites)", r"data(?:sets?| set| sets)?",
                r"data collection", r"statistical analys[ie]s", r"statistics", r"procedures?",
                r"implementation", r"algorithms?", r"architecture", r"framework", r"theory",
                r"theoretical (?:background|framework|model)", r"formulation", r"problem formulation",
                r"preliminaries", r"notation", r"simulations? setup", r"sample preparation", r"measurements?",
                r"instrumentation", r"system description", r"training", r"experimental"),
    "results": (r"results?", r"experiments?", r"experimental results?", r"evaluations?", r"findings",
                r"empirical (?:results|evaluation|study|analysis)", r"performance(?: evaluation)?",
                r"case stud(?:y|ies)", r"simulations?(?: results)?", r"numerical (?:results|experiments)",
                r"observations", r"outcomes?", r"ablation(?: stud(?:y|ies))?", r"analysis", r"analyses"),
    "discussion": (r"discussions?", r"general discussion", r"limitations?", r"interpretation",
                   r"implications", r"threats to validity", r"error analysis"),
    "conclusion": (r"conclusions?", r"concluding remarks?", r"summary and (?:conclusions?|outlook)",
                   r"future (?:work|directions|research)", r"outlook", r"closing remarks", r"final remarks",
                   r"perspectives"),
    "other": (r"acknowledge?ments?", r"acknowledge?ment", r"references", r"bibliography", r"literature cited",
              r"appendi(?:x|ces)", r"funding", r"data availability", r"code availability", r"availability",
              r"author(?:s'?)? contributions?", r"contributions? of authors", r"competing interests?",
              r"conflicts? of interests?", r"declaration of (?:competing )?interests?", r"declarations?",
              r"supplementary (?:material|materials|information|data)", r"supporting information",
              r"ethics(?: statement| approval)?", r"ethical (?:approval|considerations)", r"abbreviations",
              r"consent", r"additional information", r"financial disclosure", r"disclosures?",
              r"notes", r"footnotes", r"glossary", r"nomenclature", r"list of symbols"),
}

_COMPILED = [
    (label, re.compile(r"(?<![\w-])(?:" + "|".join(patterns) + r")(?![\w-])"))
    for label, patterns in PATTERNS.items()
]
# Weak words: a role only when the heading is nothing else ("Data", "Model",
# "Analysis"), not inside a heading such as "Data availability" (caught by
# its own pattern) or "Effect of the model size" (no role).
_ANYWHERE = {"abstract", "introduction", "related_work", "conclusion", "discussion", "other"}
# Two of the introduction's words must begin the heading too: "Objective" and
# "Overview" open a paper, but "Training objective" and "System overview" name
# a part of its method (while "Study objectives" and "Learning objectives" are
# the paper's aims).
_WEAK_INTRODUCTION = re.compile(r"(?:objective|overview)")
_NUMBER = re.compile(r"^\s*(?:#{1,6}\s*)?(?:(?:\d{1,2}(?:\.\d{1,2}){0,3}|[IVX]{1,5})[.):]?\s+"
                     r"|(?:[ivx]{1,5}|[A-Ha-h])[.):]\s+|[■•▪|]\s*)+")
_SEPARATORS = re.compile(r"\s*(?:\band\b|&|/|,|;|:|\+|\u2013|-{1,2})\s*")


def normalise_heading(heading: str) -> str:
    """Lower case, no numbering or Markdown marks, single spaces."""
    text = _NUMBER.sub("", heading.strip())
    text = re.sub(r"\s+", " ", text).strip().lower()
    return text.strip(" .:")


def heading_label(heading: Optional[str], nlm_map: Optional[Dict[str, str]] = None) -> Optional[str]:
    """The IMRaD role a heading names, or ``None``.

    A role word counts anywhere in a short heading when it is one of the
    unambiguous ones (introduction, related work, discussion, conclusion,
    acknowledgements, ...) and the heading begins with it or is made only of
    role words; "methods", "results" and their weaker synonyms ("data",
    "model", "analysis") must begin the heading ("Methods and data",
    "Results of the survey"). So "A model of rainfall" and "Data
    availability" are not methods, and "Sensitivity analysis" is not
    results: they are left to the content.
    """
    if not heading:
        return None
    text = normalise_heading(heading)
    if not text:
        return None
    if nlm_map and text.upper() in nlm_map:
        return nlm_map[text.upper()]
    best = None
    for label, pattern in _COMPILED:
        for match in pattern.finditer(text):
            key = (match.start(), -(match.end() - match.start()))
            if best is None or key < best[0]:
                best = (key, label, match)
            break
    if best is None:
        return None
    (start, _), label, match = best
    if start == 0:
        return label
    # The role word is not at the start: accept it only after a run of
    # other role words and separators ("Background and Related Work",
    # "Experimental Setup and Results") or for the unambiguous roles in a
    # short heading ("Concluding remarks", "4. Related Work", "General Discussion").
    prefix = text[:start]
    if _is_role_words(prefix):
        return label
    if (label in _ANYWHERE and len(text.split()) <= 4 and label != "other"
            and not (label == "introduction" and _WEAK_INTRODUCTION.fullmatch(match.group()))):
        return label
    return None


def _is_role_words(prefix: str) -> bool:
    rest = prefix
    for _ in range(6):
        rest = _SEPARATORS.sub(" ", rest).strip()
        if not rest:
            return True
        matched = False
        for _, pattern in _COMPILED:
            m = pattern.match(rest)
            if m:
                rest = rest[m.end():]
                matched = True
                break
        if not matched:
            return False
    return not rest.strip()


def heading_roles(heading: Optional[str]) -> Set[str]:
    """Every role a heading names anywhere ("Results and Discussion": results and discussion)."""
    text = normalise_heading(heading or "")
    return {label for label, pattern in _COMPILED if pattern.search(text)}


def _parent_rules_out(role: str, parent_role: str) -> bool:
    """Whether a sub-section's heading role gives way to the role its
    ancestor's heading names: a method's "2.1 Overview" or "2.2 Background"
    is part of the method, not the paper's introduction; a results section's
    "4.5 Summary" is not the abstract; the "Analysis" or "Experiments" inside
    a methods section are its procedures, not results."""
    if parent_role == "abstract":  # a "Summary" that holds the whole paper's sections
        return False
    return role in ("abstract", "introduction") or (role == "results" and parent_role == "methods")


def section_roles(headings: Sequence[Optional[str]], levels: Sequence[int],
                  nlm_map: Optional[Dict[str, str]] = None) -> List[Optional[str]]:
    """The role each heading of one paper names (:func:`heading_label`), read
    in the paper's nesting (``levels``, 1 = top): a sub-section's role is
    dropped (None), so that the sub-section is labelled as its parent, where
    the nearest ancestor whose heading names a role rules it out
    (:func:`_parent_rules_out`), unless that ancestor's heading names the
    sub-section's role too ("4.2 Results" under "4 Methods and Results")."""
    roles: List[Optional[str]] = []
    ancestors: List[Tuple[int, Optional[str], Set[str]]] = []  # (level, role, every role named) of open sections
    for heading, level in zip(headings, levels):
        level = level or 1
        while ancestors and ancestors[-1][0] >= level:
            ancestors.pop()
        role = heading_label(heading, nlm_map)
        named = next(((r, every) for _, r, every in reversed(ancestors) if r is not None), None)
        if role is not None and named is not None:
            parent_role, parent_roles = named
            if role not in parent_roles and _parent_rules_out(role, parent_role):
                role = None
        roles.append(role)
        ancestors.append((level, role, heading_roles(heading) if role is not None else set()))
    return roles


# NLM structured-abstract categories -> IMRaD roles.
NLM_CATEGORIES = {
    "BACKGROUND": "introduction",
    "OBJECTIVE": "introduction",
    "METHODS": "methods",
    "RESULTS": "results",
    "CONCLUSIONS": "conclusion",
}


def load_nlm_heading_map(path: Union[str, Path]) -> Dict[str, str]:
    """Heading (upper case) -> IMRaD role, from NLM's ``Structured-Abstracts-Labels`` list
    (lines ``HEADING|CATEGORY|...``). Lines whose category is not one of :data:`NLM_CATEGORIES` are skipped."""
    out: Dict[str, str] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        parts = line.split("|")
        if len(parts) < 2:
            continue
        label = NLM_CATEGORIES.get(parts[1].strip().upper())
        if label:
            out[parts[0].strip().upper()] = label
    return out


def silver_labels(doc: Doc, spans_key: str = "sections", nlm_map: Optional[Dict[str, str]] = None) -> List[Optional[str]]:
    """A silver IMRaD label per section of ``doc.spans[spans_key]`` (``None``: unknown).

    A section labelled by its reader with an IMRaD label (JATS ``sec-type``,
    the abstract, back matter) keeps it; otherwise its heading decides, read
    in the paper's nesting (:func:`section_roles`); a sub-section (``span._.section_level`` > 1)
    whose heading says nothing takes its parent's label.
    """
    spans = list(doc.spans.get(spans_key, []))
    roles = section_roles([span._.heading for span in spans], [span._.section_level or 1 for span in spans], nlm_map)
    labels: List[Optional[str]] = []
    parents: List[Tuple[int, Optional[str]]] = []  # (level, label) of open sections
    for span, role in zip(spans, roles):
        level = span._.section_level or 1
        while parents and parents[-1][0] >= level:
            parents.pop()
        label = span.label_ if span.label_ in IMRAD_LABELS else role
        if label is None and parents:
            label = parents[-1][1]
        labels.append(label)
        parents.append((level, label))
    return labels


def label_counts(labels: Sequence[Optional[str]]) -> Dict[str, int]:
    counts = {label: 0 for label in IMRAD_LABELS}
    counts["none"] = 0
    for label in labels:
        counts[label or "none"] += 1
    return counts


def section_doc(doc: Doc, nlp, labels: Optional[Sequence[Optional[str]]] = None, *, spans_key: str = "sections",
                headings: bool = True, max_tokens: Optional[int] = None) -> Doc:
    """A new doc made of the sections of ``doc`` (a reader's doc), for training and evaluation.

    ``headings=False`` withholds the headings: each section is its content
    only, and its ``span._.heading`` is None (what the content-only
    evaluation reads). ``max_tokens`` keeps only the first tokens of each
    section's content (a cheaper encoder pass). ``labels`` (one per
    section, None allowed) become the span labels; None gives
    ``"unlabelled"``. A section left with no text (a heading alone, when
    headings are withheld) is dropped: ``new.user_data["section_index"]``
    lists, per span of the new doc, the index of its section in ``doc``.
    """
    from ..readers._build import UNLABELLED

    spans = list(doc.spans.get(spans_key, []))
    if labels is None:
        labels = [s.label_ for s in spans]
    if len(labels) != len(spans):
        raise ValueError(f"{len(labels)} labels for {len(spans)} sections")
    parts: List[str] = []
    pieces = []
    length = 0
    for index, (span, label) in enumerate(zip(spans, labels)):
        heading = span._.heading
        body_start = span.start
        if heading is not None:
            for token in span:
                if "\n" in token.text or "\n" in token.whitespace_:
                    body_start = token.i + (0 if "\n" in token.text else 1)
                    break
            else:
                body_start = span.end
        while body_start < span.end and doc[body_start].is_space:
            body_start += 1
        body_end = span.end if max_tokens is None else min(span.end, body_start + max_tokens)
        body = doc[body_start:body_end].text if body_end > body_start else ""
        text = (heading + ("\n" + body if body else "")) if (headings and heading) else body
        if not text.strip():
            continue
        if parts:
            parts.append("\n\n")
            length += 2
        pieces.append((length, length + len(text), heading if headings else None, span._.section_level, label, index))
        parts.append(text)
        length += len(text)
    new = nlp.make_doc("".join(parts))
    out = []
    kept = []
    for start, end, heading, level, label, index in pieces:
        span = new.char_span(start, end, alignment_mode="expand")
        if span is None or not len(span):
            continue
        kept.append(index)
        span = Span(new, span.start, span.end, label=label if label in IMRAD_LABELS else UNLABELLED)
        span._.heading = heading
        span._.section_level = level
        out.append(span)
    new.spans[spans_key] = SpanGroup(new, name=spans_key, spans=out)
    new.user_data["section_index"] = kept
    if doc.has_extension("scicls_meta"):
        new._.scicls_meta = doc._.scicls_meta
    return new


def silver_doc(doc: Doc, nlp, spans_key: str = "sections", nlm_map: Optional[Dict[str, str]] = None) -> Doc:
    """A training doc: ``doc``'s text with only its silver-labelled sections, labelled."""
    labels = silver_labels(doc, spans_key, nlm_map)
    out = nlp.make_doc(doc.text)
    spans = []
    for span, label in zip(doc.spans.get(spans_key, []), labels):
        if label is None:
            continue
        new = Span(out, span.start, span.end, label=label)
        new._.heading = span._.heading
        new._.section_level = span._.section_level
        spans.append(new)
    out.spans[spans_key] = SpanGroup(out, name=spans_key, spans=spans)
    if doc.has_extension("scicls_meta"):
        out._.scicls_meta = doc._.scicls_meta
    return out


@registry.readers("spacy_scicls.PaperCorpus.v1")
def create_paper_corpus(path: Union[str, Path], format: Optional[str] = None, pattern: str = "*",
                        limit: int = 0) -> Callable:
    """A spaCy corpus of the papers in a folder (or one file), read with
    :mod:`spacy_scicls.readers`, their sections labelled by
    :func:`silver_labels` (sections without a silver label are left out of
    the reference). Files that cannot be read are reported and skipped. For
    ``[corpora]`` in a training config::

        [corpora.train]
        @readers = "spacy_scicls.PaperCorpus.v1"
        path = ${paths.train}
    """
    def corpus(nlp) -> Iterator[Example]:
        import sys

        from ..readers import ReaderError, read_papers

        root = Path(path)
        files = [root] if root.is_file() else sorted(p for p in root.rglob(pattern) if p.is_file())
        n = 0
        for file in files:
            try:
                for doc in read_papers(file, nlp, format=format):
                    reference = silver_doc(doc, nlp)
                    yield Example(nlp.make_doc(doc.text), reference)
                    n += 1
                    if limit and n >= limit:
                        return
            except ReaderError as err:
                print(f"skipped: {err}", file=sys.stderr)

    return corpus
