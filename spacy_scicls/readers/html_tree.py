"""An HTML page's bytes as a tree of elements: its encoding found, its tags parsed tolerantly.

The page is decoded as a browser would: a byte-order mark first, then the
charset the page declares (``<meta charset>``, ``<meta http-equiv
content="...; charset=...">``, an XML declaration), else UTF-8, else
``fallback`` (the encoding a user names), else Windows-1252, which is what
browsers read an undeclared page in. The names that browsers read as
Windows-1252 (``iso-8859-1``, ``ascii``) are read as it too.

The tree is built with the standard library's :class:`html.parser.HTMLParser`
(entities such as ``&nbsp;`` and ``&#8211;`` decoded, ``<script>`` and
``<style>`` taken as raw text) and the few repairs that real pages need:
void elements (``<br>``, ``<img>``) hold nothing, an open ``<p>`` closes at
the next block, ``<li>``, ``<dt>``/``<dd>`` and table cells and rows close at
the next of their kind, an end tag closes the elements left open inside it,
and an end tag that matches nothing is ignored. Nesting is bounded
(:data:`MAX_DEPTH`) so that the walks over the tree never exceed Python's
recursion limit, however deep a broken page nests.
"""
import codecs
import re
from collections import Counter
from html.parser import HTMLParser
from typing import Dict, Iterator, List, Optional, Tuple, Union

#: Deepest element nesting kept: deeper start tags become children of the element at this depth.
MAX_DEPTH = 200

VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
#: Start tags that close an open <p> (the HTML standard's list, less the rare ones).
CLOSES_P = frozenset(
    "address article aside blockquote details dialog div dl fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hgroup hr main menu nav ol p pre section table ul".split()
)
#: Elements past which a block does not close an open <p> (a <p> outside a table cell stays open).
_SCOPE = frozenset("html body td th table caption button object template article section div li dd dt blockquote".split())
#: Start tags that end an open element of their kind: tag -> (the kinds it ends, the elements it does not reach past).
_IMPLIED = {
    "li": ({"li"}, {"ul", "ol", "menu", "table"}),
    "dt": ({"dt", "dd"}, {"dl", "table"}),
    "dd": ({"dt", "dd"}, {"dl", "table"}),
    "tr": ({"tr"}, {"table"}),
    "td": ({"td", "th"}, {"tr", "table"}),
    "th": ({"td", "th"}, {"tr", "table"}),
    "tbody": ({"tbody", "thead", "tfoot"}, {"table"}),
    "thead": ({"tbody", "thead", "tfoot"}, {"table"}),
    "tfoot": ({"tbody", "thead", "tfoot"}, {"table"}),
    "option": ({"option"}, {"select", "datalist"}),
}
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())


class Element:
    """One element: its tag (lower case), attributes and children (elements and text, in order)."""

    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: Dict[str, str], parent: Optional["Element"]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.children: List[Union["Element", str]] = []
        self.parent = parent

    def get(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)

    def iter(self, tag: Optional[str] = None) -> Iterator["Element"]:
        """This element and every element below it, in document order (without recursion)."""
        stack: List[Element] = [self]
        while stack:
            node = stack.pop()
            if tag is None or node.tag == tag:
                yield node
            stack.extend(child for child in reversed(node.children) if isinstance(child, Element))

    def text(self) -> str:
        """All the text below this element, as it stands."""
        parts = []
        stack: List[Union[Element, str]] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, str):
                parts.append(node)
            else:
                stack.extend(reversed(node.children))
        return "".join(parts)

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.stack: List[Element] = [self.root]
        self.open_tags: Counter = Counter()  # how many of each tag are open: a stray end tag costs nothing

    # -- helpers ----------------------------------------------------------
    def _pop_to(self, index: int) -> None:
        self.open_tags.subtract(node.tag for node in self.stack[index:])
        del self.stack[index:]

    def _close_implied(self, tag: str) -> None:
        if tag in _IMPLIED:
            closes, stops = _IMPLIED[tag]
        elif tag in CLOSES_P:
            closes, stops = {"p"}, _SCOPE
        else:
            return
        for index in range(len(self.stack) - 1, 0, -1):
            open_tag = self.stack[index].tag
            if open_tag in closes:
                self._pop_to(index)
                break
            if open_tag in stops:
                break
        if tag in _HEADINGS and self.stack[-1].tag in _HEADINGS:
            self._pop_to(len(self.stack) - 1)  # <h2>a<h3>b: the first heading ends where the second starts

    def _append(self, tag: str, attrs: List[Tuple[str, Optional[str]]], opens: bool) -> None:
        if tag == "body":  # an unclosed <head> ends where the body starts
            for index, node in enumerate(self.stack):
                if node.tag == "head":
                    self._pop_to(index)
                    break
        self._close_implied(tag)
        parent = self.stack[-1]
        element = Element(tag, {name.lower(): value or "" for name, value in attrs}, parent)
        parent.children.append(element)
        if opens and tag not in VOID and len(self.stack) < MAX_DEPTH:
            self.stack.append(element)
            self.open_tags[tag] += 1

    # -- HTMLParser's handlers ---------------------------------------------
    def handle_starttag(self, tag: str, attrs) -> None:
        self._append(tag, attrs, opens=True)

    def handle_startendtag(self, tag: str, attrs) -> None:
        self._append(tag, attrs, opens=False)  # <div/> as XHTML writes an empty element

    def handle_endtag(self, tag: str) -> None:
        if tag in ("html", "body") or self.open_tags[tag] <= 0:
            return  # text after </body> is still the page's, as browsers show it; a stray end tag is ignored
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                self._pop_to(index)
                return

    def handle_data(self, data: str) -> None:
        # Pieces of text are kept as they come (joining them here, a piece at a time, is quadratic).
        self.stack[-1].children.append(data)


def _defused(text: str) -> str:
    """The page as HTMLParser reads it in linear time.

    HTMLParser looks for the end of an unclosed comment, tag or quoted
    attribute as far as the end of the page, once per such construct: a page
    holding thousands of them (a cut-off download, binary junk) takes hours.
    So, before it reads the page: a comment that is never closed runs to the
    end of the page, as browsers read it (the rest is left out here); a tag
    must end (``>``, outside quoted values) before the next ``<``, or its
    ``<`` is text (written ``&lt;``), and so is a ``<![`` marked section,
    which HTML has only inside SVG and MathML. Each character is looked at a
    bounded number of times.
    """
    out: List[str] = []
    position = 0
    while True:
        start = text.find("<!--", position)
        if start < 0:
            out.append(text[position:])
            break
        end = text.find("-->", start + 4)
        out.append(text[position:start])
        if end < 0:
            break  # an unclosed comment: the rest of the page is inside it
        position = end + 3
    text = "".join(out)
    pieces: List[str] = []
    position = 0
    for match in _TAG_OPEN.finditer(text):
        at = match.start()
        following = text.find("<", at + 1)
        if text.startswith("<![", at) or not _WHOLE_TAG.match(text, at, following if following >= 0 else len(text)):
            pieces.append(text[position:at])
            pieces.append("&lt;")
            position = at + 1
    pieces.append(text[position:])
    return "".join(pieces)


_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
#: A tag up to its ``>``: runs without quotes or angle brackets, and whole quoted values (which may hold ``>``).
_WHOLE_TAG = re.compile(r"<[^<>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^<>\"']*)*>")


def parse_html(text: str) -> Element:
    """The page's tree: a ``#document`` element holding the page's top elements."""
    builder = _TreeBuilder()
    builder.feed(_defused(text))
    builder.close()
    return builder.root


# -- decoding ------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:\-]+)", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([a-zA-Z0-9_.:\-]+)", re.IGNORECASE)
#: Names that browsers read as Windows-1252 (the WHATWG Encoding Standard's labels).
_AS_WINDOWS_1252 = {"iso8859-1", "latin-1", "ascii", "cp1252"}
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
#: How much of the page is searched for a declared charset (browsers look at the first 1,024 bytes;
#: pages saved by tools put it later, after long comments or scripts).
SNIFF_BYTES = 8192


_HTML_DOCUMENT = re.compile(rb"^(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL)


def starts_like_html(head: bytes) -> bool:
    """Whether a file's first bytes are an HTML page's: a doctype ``html`` or an ``<html>`` tag,
    after any byte-order mark, XML declaration (XHTML) and comments."""
    return bool(_HTML_DOCUMENT.match(head.lstrip(b"\xef\xbb\xbf \t\r\n")))


def declared_charset(data: bytes) -> Optional[str]:
    """The encoding the page declares in its first bytes, as Python names it; None if none or unknown."""
    head = data[:SNIFF_BYTES]
    found = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if not found:
        return None
    try:
        name = codecs.lookup(found.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name in _AS_WINDOWS_1252:
        return "cp1252"
    if name.startswith("utf-16"):
        return "utf-8"  # a page in UTF-16 has a byte-order mark; a declaration read in ASCII bytes is wrong
    return name


class Decoded:
    """A page's text and how it was decoded (``encoding``; ``how``: bom, declared, utf-8 or fallback)."""

    def __init__(self, text: str, encoding: str, how: str, replaced: bool) -> None:
        self.text, self.encoding, self.how, self.replaced = text, encoding, how, replaced

    def meta(self) -> Dict[str, object]:
        out: Dict[str, object] = {"encoding": self.encoding, "encoding_from": self.how}
        if self.replaced:
            out["undecodable_bytes_replaced"] = True
        return out


def decode_html(data: bytes, fallback: Optional[str] = None) -> Decoded:
    """The page's text (see the module); bytes that its encoding cannot decode become U+FFFD,
    as browsers show them, and ``replaced`` says so."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom):], encoding, "bom")
    declared = declared_charset(data)
    if declared:
        return _decode(data, declared, "declared")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "utf-8", False)
    except UnicodeDecodeError:
        pass
    return _decode(data, fallback or "cp1252", "fallback")


def _decode(data: bytes, encoding: str, how: str) -> Decoded:
    try:
        return Decoded(data.decode(encoding), encoding, how, False)
    except UnicodeDecodeError:
        return Decoded(data.decode(encoding, errors="replace"), encoding, how, True)
