"""A PDF paper into a :class:`~spacy_scicls.readers._build.Paper`.

The pages are read one at a time (:mod:`.extract`); their lines are
cleaned and put in reading order (:mod:`.layout`); the blocks that are
headings are found (:mod:`.headings`). Then:

- the title is page 1's largest type (the first lines in it, if larger
  than the body's);
- the abstract is the section headed "Abstract" (or a paragraph that
  starts with "Abstract"), else the last long, sentence-like block above
  the first heading of page 1;
- the rest of page 1 above the first heading (authors, affiliations) is
  front matter, kept in the metadata, not in the text;
- captions go to the metadata with their page; the reference list (a
  section headed "References", "Bibliography", ...) too, so that the text,
  as with the other structured readers, is the paper's running text;
- a paragraph cut by a column or page break is joined again when the
  next part starts in lower case after no closing punctuation.
"""
import re
from collections import Counter
from typing import Dict, List, Optional

from .._build import Paper, clean
from .extract import Limits, Line, PdfError, iter_page_lines, open_pdf
from .guard import check_streams
from .headings import decide_headings
from .layout import Block, blocks, body_size, document_gutter, join_lines, line_pitch, mark_margins, \
    mark_running, mark_shared_baselines, merge_fragments, page_gutter, reading_order

_ABSTRACT = re.compile(r"^\s*abstract\b[\s.:\u2014\u2013-]*", re.I)
_REFERENCES = re.compile(
    r"^(?:\d{1,2}\.?\s+|[IVX]{1,5}\.\s+)?(?:references?|bibliography|literature cited|works cited|"
    r"references and notes|cited literature)\s*:?$",
    re.I,
)
_WORD = re.compile(r"[^\W\d_][\w\u2010-]*[^\W\d_]|[^\W\d_]")
MAX_REFERENCES_CHARS = 100_000
MIN_PAGE_CHARS = 20


def read_pdf(data: bytes, paper: Paper, limits: Optional[Limits] = None) -> Paper:
    """Fill ``paper`` from the PDF ``data``; raises :class:`PdfError` for a PDF that cannot be read."""
    limits = limits or Limits()
    if not data.lstrip()[:1024].startswith(b"%PDF-") and b"%PDF-" not in data[:1024]:
        raise PdfError("not a PDF (no %PDF- header)")
    check_streams(data, limits.max_stream_bytes)
    pdf = open_pdf(data, paper.source or "input")
    try:
        pages = []
        for lines in iter_page_lines(pdf, limits):
            pages.append(merge_fragments(lines))
    finally:
        pdf.close()
    n_pages = len(pages)
    all_lines = [line for lines in pages for line in lines]
    # a scanned page may carry a stamp of text ("Downloaded from ..."): a page with less than
    # 20 characters counts as one without text
    textless = sum(1 for lines in pages if sum(len(line.text.strip()) for line in lines) < MIN_PAGE_CHARS)
    if textless == n_pages:
        raise PdfError("no text layer: run OCR first")
    if textless > n_pages / 2:
        raise PdfError(f"no text layer on {textless} of {n_pages} pages: run OCR first")
    size = body_size(all_lines)
    mark_running(pages)
    mark_margins(pages, size)
    gutters = [page_gutter(lines) for lines in pages]
    hint = document_gutter(gutters)
    ordered = [reading_order(lines, gutter, hint) for lines, gutter in zip(pages, gutters)]
    for lines in ordered:
        mark_shared_baselines(lines)
    pitch = line_pitch(ordered, size)
    body_lines = [line for lines in ordered for line in lines if abs(line.size - size) <= 0.6]
    body_bold = bool(body_lines) and sum(line.bold for line in body_lines) / len(body_lines) >= 0.5
    body_italic = bool(body_lines) and sum(line.italic for line in body_lines) / len(body_lines) >= 0.5
    all_blocks: List[Block] = []
    for lines in ordered:
        all_blocks.extend(blocks(lines, size, pitch))
    title_blocks = _title(all_blocks, size)
    decide_headings(all_blocks, size, body_bold, body_italic)
    vocabulary = _vocabulary(all_lines)
    _assemble(paper, all_blocks, title_blocks, vocabulary)
    paper.extra.update({
        "pages": n_pages,
        "body_font_size": size,
        "running_lines_removed": sum(1 for line in all_lines if line.role == "running"),
        "margin_lines_removed": sum(1 for line in all_lines if line.role == "margin"),
    })
    return paper


def _title(all_blocks: List[Block], size: float) -> List[Block]:
    """Page 1's blocks in its largest type, if that is larger than the body's (the first run of them)."""
    first = [b for b in all_blocks if b.page == 0 and b.role == "body" and re.search(r"[^\W\d_]{2}", b.text)]
    if not first:
        return []
    largest = max(b.size for b in first)
    if largest < 1.15 * size:
        return []
    out = []
    for block in first:
        if block.size == largest:
            out.append(block)
        elif out:
            break
    for block in out:
        block.role = "title"
    return out


def _vocabulary(lines: List[Line]) -> Counter:
    """How the paper spells its words (hyphenated or not), from the words inside its lines."""
    words = Counter()
    for line in lines:
        for word in _WORD.findall(line.text)[:-1]:  # a line's last word may be broken
            words[word.lower()] += 1
    return words


def _paragraphs(blocks: List[Block], vocabulary: Counter) -> List[str]:
    """Blocks as paragraphs; a paragraph cut by a column or page break is made whole again."""
    out: List[str] = []
    for block in blocks:
        text = join_lines([line.text for line in block.lines], vocabulary)
        if out and not re.search(r"[.!?:)\]]$", out[-1]) and text[:1].islower():
            out[-1] = join_lines([out[-1], text], vocabulary)
        else:
            out.append(text)
    return [clean(p) for p in out if clean(p)]


def _assemble(paper: Paper, all_blocks: List[Block], title_blocks: List[Block], vocabulary: Counter) -> None:
    if title_blocks:
        paper.title = clean(" ".join(b.text for b in title_blocks))
    captions = [{"page": b.page + 1, "text": clean(join_lines([l.text for l in b.lines], vocabulary))}
                for b in all_blocks if b.role == "caption"]
    content = [b for b in all_blocks if b.role in ("body", "heading")]
    first_heading = next((i for i, b in enumerate(content) if b.role == "heading"), len(content))
    front = content[:first_heading]
    rest = content[first_heading:]
    abstract: List[str] = []
    front_matter: List[str] = []
    # page 1's text above the first heading: the abstract and the front matter
    on_first_page = [b for b in front if b.page == 0] if rest else []
    unheaded = [b for b in front if b not in on_first_page]
    explicit = next((i for i, b in enumerate(on_first_page) if _ABSTRACT.match(b.text)), None)
    if rest and _ABSTRACT.fullmatch(clean(rest[0].text)):
        front_matter = [b.text for b in on_first_page]  # the abstract is the first heading's section
    elif explicit is not None:
        text = _ABSTRACT.sub("", on_first_page[explicit].text, count=1)
        abstract = [text] if text.strip() else []
        abstract += _paragraphs(on_first_page[explicit + 1:], vocabulary)
        front_matter = [b.text for b in on_first_page[:explicit]]
    else:
        long = [i for i, b in enumerate(on_first_page) if _abstract_like(b.text)]
        if long:
            abstract = _paragraphs([on_first_page[long[-1]]], vocabulary)
            front_matter = [b.text for i, b in enumerate(on_first_page) if i != long[-1]]
        else:
            front_matter = [b.text for b in on_first_page]
    sections: List[Dict] = []
    references: List[str] = []
    if unheaded:
        sections.append({"heading": None, "level": 1, "blocks": unheaded})
    in_references = False
    for block in rest:
        if block.role == "heading":
            heading = clean(join_lines([l.text for l in block.lines], vocabulary))
            level = block.tags.get("level", 1)
            if _REFERENCES.match(heading):
                in_references = True
                references_level = level
                continue
            if in_references and level > references_level:
                continue  # a "heading" inside the reference list
            in_references = False
            if _ABSTRACT.fullmatch(heading) and not sections:
                sections.append({"heading": "Abstract", "level": level, "blocks": [], "abstract": True})
                continue
            sections.append({"heading": heading, "level": level, "blocks": []})
        elif in_references:
            references.append(block.text)
        else:
            if not sections:
                sections.append({"heading": None, "level": 1, "blocks": []})
            sections[-1]["blocks"].append(block)
    for section in sections:
        paragraphs = _paragraphs(section["blocks"], vocabulary)
        if section.get("abstract"):
            abstract = paragraphs
            continue
        part = paper.add_section(section["heading"], level=section["level"])
        part.paragraphs.extend(paragraphs)
    paper.abstract = abstract
    paper.extra["captions"] = captions
    paper.extra["front_matter"] = [clean(t) for t in front_matter if clean(t)]
    text = "\n".join(clean(r) for r in references)
    paper.extra["references"] = text[:MAX_REFERENCES_CHARS] or None


def _abstract_like(text: str) -> bool:
    """A block that reads like an abstract: long, several sentences, no e-mail address."""
    words = text.split()
    return len(words) >= 40 and len(re.findall(r"[a-z]{2}[.!?](?:\s|$)", text)) >= 2 and "@" not in text
