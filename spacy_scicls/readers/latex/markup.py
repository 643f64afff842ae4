"""LaTeX markup to the text a reader of the typeset paper sees, with the places of its sections marked.

A small tokenizer of our own, not a full TeX: it reads the markup papers use
(docs/annotate.md says what becomes of each kind, and why not ``pylatexenc``):

- macros that format text are unwrapped (``\\emph{x}`` -> ``x``), accents and
  TeX's ligatures become Unicode (``\\'e`` -> ``é``, ``--`` -> ``–``, ````x''`` -> ``“x”``);
- ``\\cite{a,b}`` -> ``[1, 2]`` (numbered by first citation, as the unarXive
  reader does), ``\\ref{x}`` -> ``[ref]``; footnotes, labels, figures, tables,
  listings and display formulas are left out of the running text (figure and
  table captions are kept apart, in :attr:`Renderer.captions`); an inline
  formula is its LaTeX source, as the unarXive reader gives it;
- the author's own macros (``\\newcommand``, ``\\def``, ``\\let``) are
  expanded, within a budget that stops a recursive or explosive definition;
- unknown macros are dropped and their braced arguments kept as text.

The output is text in which a blank line separates paragraphs and
:data:`MARK` ... :data:`MARK_END` marks a section's start (level, label,
heading); :func:`split_marks` reads it back.
"""
import re
import unicodedata
from typing import Dict, List, Optional, Tuple

MARK, FIELD, MARK_END = "\ue000", "\ue001", "\ue002"
PAR = "\n\n"
#: A blank line, a paragraph break (any white space between two line breaks).
_BLANK = re.compile(r"\n[ \t\r]*\n")
#: Nesting of braces, environments and macro expansions read with their markup; deeper is read flat.
MAX_DEPTH = 60
#: User macro expansions in one paper: past it a macro is dropped (a \def that calls itself).
MAX_EXPANSIONS = 20_000
#: A user macro longer than this is not expanded (dropped as an unknown macro).
MAX_MACRO_BODY = 2_000

SECTION_LEVELS = {"part": 0, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4,
                  "paragraph": 5, "subparagraph": 6}
ACCENTS = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
           ".": "\u0307", "c": "\u0327", "v": "\u030c", "u": "\u0306", "H": "\u030b", "k": "\u0328",
           "r": "\u030a", "d": "\u0323", "b": "\u0331", "t": "\u0361"}
# Macros that stand for a character or a word.
SYMBOLS = {
    "LaTeX": "LaTeX", "TeX": "TeX", "LaTeXe": "LaTeX2e", "BibTeX": "BibTeX", "ldots": "…", "dots": "…",
    "textellipsis": "…", "S": "§", "P": "¶", "dag": "†", "ddag": "‡", "textdagger": "†", "textdaggerdbl": "‡",
    "copyright": "©", "textcopyright": "©", "textregistered": "®", "texttrademark": "™", "pounds": "£",
    "textsterling": "£", "euro": "€", "texteuro": "€", "textdegree": "°", "textbullet": "•", "textendash": "–",
    "textemdash": "—", "textquoteleft": "‘", "textquoteright": "’", "textquotedblleft": "“",
    "textquotedblright": "”", "textless": "<", "textgreater": ">", "textbar": "|", "textbackslash": "\\",
    "textasciitilde": "~", "textasciicircum": "^", "textunderscore": "_", "textperthousand": "‰",
    "checkmark": "✓", "ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å",
    "AA": "Å", "l": "ł", "L": "Ł", "i": "i", "j": "j", "slash": "/", "textmu": "µ", "textpm": "±",
    "texttimes": "×", "quad": " ", "qquad": " ", "enspace": " ", "thinspace": " ", "space": " ",
    "newline": " ", "linebreak": " ", "par": PAR, "smallskip": PAR, "medskip": PAR, "bigskip": PAR,
    # what papers write for these when a package, not the author, defines them (the author's own win)
    "ie": "i.e.", "eg": "e.g.", "Ie": "I.e.", "Eg": "E.g.", "etal": "et al.", "etc": "etc.", "vs": "vs.",
    "cf": "cf.", "wrt": "w.r.t.",
}
# name -> (argument spec, what is written): spec letters are "*" (an optional star), "[" (an optional
# argument), "{" (a mandatory one); what is written is "" (nothing), an int (that mandatory argument,
# read as text), "all" (every mandatory argument, read as text, a space between) or "joined" (with none).
MACROS: Dict[str, Tuple[str, object]] = {}
for _names, _spec, _out in (
    ("textbf textit emph textsc texttt textrm textsf textsl textup textmd textnormal underline uline sout "
     "st ul hl mbox hbox fbox text textsuperscript textsubscript enquote emphasize nolinkurl url path "
     "acs acl acf ac acp acsp aclp gls Gls glspl Glspl glsentryshort num ang", "{", 0),
    ("textcolor colorbox href", "[{{", 1), ("texorpdfstring", "{{", 0), ("IEEEPARstart", "{{", "joined"), ("fcolorbox", "[{{{", 2), ("hyperref", "[{", 0),
    ("makebox framebox", "[[{", 0), ("parbox", "[[[{{", 1), ("raisebox", "{[[{", 1),
    ("resizebox", "*{{{", 2), ("scalebox", "{[{", 1), ("rotatebox", "[{{", 1), ("adjustbox", "{{", 1),
    ("SI qty", "[{{", "all"), ("si unit", "[{", 0), ("SIrange", "[{{{", "all"),
    ("label index glossary bibliographystyle pagestyle thispagestyle stepcounter refstepcounter newlength "
     "markright linespread hypersetup nocite keywords email address affiliation affil institute "
     "icmlkeywords orcid authorrunning titlerunning shorttitle shortauthors pacs received accepted "
     "thanks date ead tnoteref fnref cortext doi addbibresource includeonly altaffiliation homepage "
     "collaboration preprint curraddr urladdr dedicatory icmltitlerunning shortauthor received "
     "acmConference acmBooktitle acmDOI acmISBN acmYear copyrightyear setcopyright", "{", ""),
    ("subjclass ccsdesc", "[{", ""),
    ("author", "[{", ""), ("footnote footnotetext", "[{", ""), ("footnotemark", "[", ""),
    ("vspace hspace enlargethispage", "*{", ""), ("includegraphics", "*[[{", ""),
    ("usepackage RequirePackage documentclass documentstyle", "[{[", ""), ("color", "[{", ""),
    ("setlength addtolength setcounter addtocounter settowidth settoheight fontsize markboth "
     "icmlauthor icmlaffiliation icmlcorrespondingauthor icmlsetsymbol newcounter", "{{", ""),
    ("definecolor", "{{{", ""), ("DeclareMathOperator", "*{{", ""), ("captionsetup", "[{", ""),
    ("newtheorem", "*{[{[", ""), ("newenvironment renewenvironment", "{[[{{", ""),
    ("setcitestyle", "{", ""), ("bibliography", "{", ""), ("printbibliography", "[", ""),
    ("item", "[", None), ("bibitem", "[{", None),
):
    for _name in _names.split():
        MACROS[_name] = (_spec, _out)
CITES = {"cite", "citep", "citet", "citealp", "citealt", "citeauthor", "citeyear", "citeyearpar", "parencite",
         "textcite", "autocite", "footcite", "Cite", "Citep", "Citet", "citenum", "smartcite", "supercite"}
REFS = {"ref", "eqref", "autoref", "cref", "Cref", "pageref", "vref", "nameref", "subref", "autopageref",
        "crefrange", "Crefrange", "cpageref"}
DEFINITIONS = {"newcommand", "renewcommand", "providecommand", "DeclareRobustCommand", "def", "gdef", "edef",
               "xdef", "let", "newcommandx"}
# Environments left out of the running text (a float's caption is kept apart).
FLOATS = {"figure", "figure*", "table", "table*", "wrapfigure", "wraptable", "sidewaysfigure", "sidewaystable",
          "algorithm", "algorithm*", "algorithm2e", "SCfigure", "subfigure", "subtable", "longtable", "tabular",
          "tabular*", "tabularx", "tabulary", "tabu", "supertabular", "tikzpicture", "picture", "pgfpicture",
          "algorithmic", "lstlisting", "verbatim", "minted", "comment", "filecontents", "thebibliography*",
          "floatrow", "center*",
          # front matter that is not the paper's text (the JATS reader leaves keywords out too)
          "keyword", "keywords", "IEEEkeywords", "CCSXML", "highlights", "graphicalabstract",
          "icmlauthorlist"}
DISPLAY_MATH = {"equation", "equation*", "align", "align*", "alignat", "alignat*", "gather", "gather*",
                "multline", "multline*", "eqnarray", "eqnarray*", "displaymath", "flalign", "flalign*",
                "dmath", "dmath*", "subequations", "IEEEeqnarray", "IEEEeqnarray*", "split", "cases"}
INLINE_MATH = {"math"}
LISTS = {"itemize", "enumerate", "description", "compactitem", "compactenum", "inparaenum", "list"}
ACKNOWLEDGEMENTS = {"acknowledgments", "acknowledgements", "acks", "ack", "acknowledgment", "acknowledgement"}
# Arguments of environments that are not their content.
ENV_ARGS = {"minipage": "[[[{", "multicols": "{[", "multicols*": "{[", "list": "{{", "thebibliography": "{",
            "adjustbox": "{", "tcolorbox": "[", "spacing": "{", "otherlanguage": "{", "appendices": "",
            "abstract": "[", "theorem": "[", "lemma": "[", "proof": "[", "definition": "["}

_CONTROL = re.compile(r"\\(?:([a-zA-Z@]+)|(.))", re.S)
_PLAIN = re.compile(r"[^\\{}$~\n\-`'&#%\ue000-\ue002]+")
_BRACES = re.compile(r"\\.|[{}]", re.S)
_BRACKETS = re.compile(r"\\.|[{}\[\]]|\n[ \t]*\n", re.S)
_SPACE = re.compile(r"\s+")
_PARAM = re.compile(r"#(#|[1-9])")


def _skip_space(s: str, i: int) -> int:
    """Past spaces and at most one line break (a blank line ends the search for an argument)."""
    n = len(s)
    newline = False
    while i < n and s[i] in " \t\r\n":
        if s[i] == "\n":
            if newline:
                break
            newline = True
        i += 1
    return i


def group_end(s: str, i: int) -> int:
    """The index of the brace that closes the ``{`` at ``i``; ``len(s)`` when none does (TeX would stop;
    the rest is read as the group's)."""
    depth = 0
    for match in _BRACES.finditer(s, i):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return match.start()
    return len(s)


def bracket_end(s: str, i: int, limit: int = 8_000) -> Optional[int]:
    """The index of the ``]`` that closes the ``[`` at ``i`` outside braces; None when no ``]`` does before a
    blank line or ``limit`` characters (then the ``[`` is text, not an optional argument)."""
    stop = min(len(s), i + limit)
    if s.find("]", i + 1, stop) < 0:  # the usual case for a [ that is text; found without a token scan
        return None
    depth = 0
    for match in _BRACKETS.finditer(s, i + 1, stop):
        token = match.group()
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth < 0:
                return None
        elif token == "]" and depth == 0:
            return match.start()
        elif token[0] == "\n":
            return None
    return None


def read_args(s: str, i: int, spec: str) -> Tuple[List[Optional[str]], int]:
    """The arguments after a macro, as its ``spec`` says (``*``, ``[``, ``{``): a list with the star
    (``"*"`` or None), each optional argument (None when absent) and each mandatory one (a braced group's
    content, else the next character or control word), and the index after them."""
    out: List[Optional[str]] = []
    n = len(s)
    for kind in spec:
        if kind == "*":
            if i < n and s[i] == "*":
                out.append("*")
                i += 1
            else:
                out.append(None)
            continue
        j = _skip_space(s, i)
        if kind == "[":
            end = bracket_end(s, j) if j < n and s[j] == "[" else None
            if end is None:
                out.append(None)
            else:
                out.append(s[j + 1:end])
                i = end + 1
            continue
        if j < n and s[j] == "{":
            end = group_end(s, j)
            out.append(s[j + 1:end])
            i = min(end + 1, n)
        elif j < n and s[j] == "\\":
            match = _CONTROL.match(s, j)
            out.append(match.group())
            i = match.end()
        elif j < n and s[j] not in "}":
            out.append(s[j])
            i = j + 1
        else:
            out.append("")
            i = j
    return out, i


def _env_end(s: str, name: str, i: int) -> Tuple[int, int]:
    """(start of ``\\end{name}``, index after it) for an environment whose content starts at ``i``; nested
    environments of the same name are counted. Without an ``\\end``, the rest of ``s``."""
    pattern = re.compile(r"\\(begin|end)\s*\{" + re.escape(name) + r"\}")
    depth = 1
    for match in pattern.finditer(s, i):
        depth += 1 if match.group(1) == "begin" else -1
        if depth == 0:
            return match.start(), match.end()
    return len(s), len(s)


def accented(base: str, accent: str) -> str:
    """``base`` (a letter, or text whose first letter takes the accent) with a combining ``accent``."""
    if not base:
        return ""
    first = {"ı": "i", "ȷ": "j"}.get(base[0], base[0])
    return unicodedata.normalize("NFC", first + ACCENTS[accent]) + base[1:]


#: The marker characters (private-use code points) taken out of what goes inside a mark, so that a heading
#: that holds one (a source that has them, a section command inside a section's title) cannot break it.
_NO_MARKERS = {ord(MARK): None, ord(FIELD): None, ord(MARK_END): None}


def mark(level: Optional[int], label: Optional[str], heading: str) -> str:
    heading = _MARKS.sub(lambda inner: inner.group(1).rsplit(FIELD, 1)[-1], heading)  # a mark inside: its title
    fields = ("" if level is None else str(level), label or "", heading)
    return MARK + FIELD.join(field.translate(_NO_MARKERS) for field in fields) + MARK_END


_MARKS = re.compile(MARK + "(.*?)" + MARK_END, re.S)


def split_marks(text: str) -> List[Tuple[Optional[Tuple[Optional[int], Optional[str], str]], str]]:
    """The rendered text as [(section mark or None for the text before the first, text)]."""
    out: List[Tuple[Optional[Tuple[Optional[int], Optional[str], str]], str]] = []
    pos, current = 0, None
    for match in _MARKS.finditer(text):
        fields = match.group(1).split(FIELD)
        if len(fields) != 3 or not (fields[0] == "" or fields[0].isdigit()):
            continue  # the source's own marker characters, not a mark: left in the text
        out.append((current, text[pos:match.start()]))
        level, label, heading = fields
        current = (int(level) if level else None, label or None, heading)
        pos = match.end()
    out.append((current, text[pos:]))
    return out


def _flat(s: str) -> str:
    """Text past the nesting limit: control words and braces dropped, nothing interpreted."""
    return re.sub(r"\\[a-zA-Z@]+\*?|\\.|[{}$]", " ", s, flags=re.S)


class Renderer:
    """Renders a paper's LaTeX; what is not running text (title, abstract, captions, macro definitions)
    is kept in its attributes."""

    def __init__(self) -> None:
        self.macros: Dict[str, Tuple[int, Optional[str], str]] = {}
        self.title: Optional[str] = None
        self.abstract: List[str] = []
        self.captions: List[str] = []
        self.citations: Dict[str, int] = {}
        self.references: List[str] = []
        self.appendix = False
        self.expansions = 0
        self.notes: List[str] = []

    # --- the text -------------------------------------------------------------------------

    def render(self, s: str, depth: int = 0) -> str:
        if depth > MAX_DEPTH:
            return _flat(s)
        out: List[str] = []
        i, n = 0, len(s)
        while i < n:
            plain = _PLAIN.match(s, i)
            if plain:
                out.append(plain.group())
                i = plain.end()
                continue
            c = s[i]
            if c == "\\":
                i = self._control(s, i, out, depth)
            elif c == "{":
                end = group_end(s, i)
                out.append(self.render(s[i + 1:end], depth + 1))
                i = end + 1
            elif c == "$":
                i = self._dollar(s, i, out)
            elif c == "\n":
                blank = _BLANK.match(s, i)
                out.append(PAR if blank else " ")
                i = blank.end() if blank else i + 1
            elif c == "-":
                run = len(s[i:i + 3]) - len(s[i:i + 3].lstrip("-"))
                out.append({3: "—", 2: "–"}.get(run, "-"))
                i += run
            elif c == "`":
                double = s.startswith("``", i)
                out.append("“" if double else "‘")
                i += 2 if double else 1
            elif c == "'":
                double = s.startswith("''", i)
                out.append("”" if double else "'")
                i += 2 if double else 1
            elif c == "~":
                out.append(" ")
                i += 1
            elif c == "&":
                out.append(" ")
                i += 1
            else:  # a stray }, a macro parameter #, a % left in an argument, a marker character
                i += 1
        return "".join(out)

    def _control(self, s: str, i: int, out: List[str], depth: int) -> int:
        match = _CONTROL.match(s, i)
        if match is None:  # a backslash at the very end
            return i + 1
        word, symbol = match.group(1), match.group(2)
        j = match.end()
        if symbol is not None:
            return self._symbol(symbol, s, j, out, depth)
        after = j
        while after < len(s) and s[after] in " \t":  # TeX eats the spaces after a control word
            after += 1
        if after < len(s) and s[after] == "\n" and not _BLANK.match(s, after):
            after += 1
        spaced = after > j
        if word in self.macros and word not in SECTION_LEVELS:
            return self._expand(word, s, j, out, depth, spaced)
        if word in SYMBOLS:
            out.append(SYMBOLS[word] + (" " if spaced and SYMBOLS[word].strip() else ""))
            return after
        if word in ACCENTS:  # \c{c}, \v s, \H{o}
            (base,), k = read_args(s, j, "{")
            out.append(accented(self.render(base, depth + 1), word))
            return k
        if word in SECTION_LEVELS:
            (_, short, title), k = read_args(s, j, "*[{")
            heading = _SPACE.sub(" ", self.render(title, depth + 1).replace(PAR, " ")).strip()
            out.append(PAR + mark(SECTION_LEVELS[word], "other" if self.appendix else None, heading) + PAR)
            return k
        if word == "begin":
            return self._environment(s, j, out, depth)
        if word == "end":  # an \end without its \begin
            return read_args(s, j, "{")[1]
        if word in DEFINITIONS:
            return self._define(word, s, j)
        if word in CITES:
            (_, _, _, keys), k = read_args(s, j, "*[[{")
            numbers = [self.citations.setdefault(key.strip(), len(self.citations) + 1)
                       for key in keys.split(",") if key.strip()]
            out.append(f"[{', '.join(map(str, numbers))}]" if numbers else "")
            return k
        if word in REFS:
            return self._placeholder(s, j, out, "*{", "[ref]")
        if word in ("caption", "captionof"):
            args, k = read_args(s, j, "*{[{" if word == "captionof" else "*[{")
            caption = _SPACE.sub(" ", self.render(args[-1], depth + 1)).strip()
            if caption:
                self.captions.append(caption)
            return k
        if word == "twocolumn":  # \twocolumn[front matter]: ICML sets its title and authors so
            (front,), k = read_args(s, j, "[")
            out.append(self.render(front or "", depth + 1))
            return k
        if word in ("title", "icmltitle"):
            (_, title), k = read_args(s, j, "[{")
            self.title = _SPACE.sub(" ", self.render(title, depth + 1).replace(PAR, " ")).strip() or self.title
            return k
        if word in ("abstract", "abstracts") and _skip_space(s, j) < len(s) and s[_skip_space(s, j)] == "{":
            (text,), k = read_args(s, j, "{")
            self.abstract.append(self.render(text, depth + 1))
            return k
        if word == "csname":  # \csname name\endcsname: a macro's name, not text
            end = s.find("\\endcsname", j)
            return len(s) if end < 0 else end + len("\\endcsname")
        if word == "appendix":
            self.appendix = True
            return after
        if word == "verb":
            if j < len(s):
                delimiter = s[j + 1] if s[j] == "*" and j + 1 < len(s) else s[j]
                start = j + (2 if s[j] == "*" else 1)
                end = s.find(delimiter, start)
                end = len(s) if end < 0 else end
                out.append(s[start:end])
                return end + 1
            return j
        if word in MACROS:
            spec, what = MACROS[word]
            args, k = read_args(s, j, spec)
            if word == "item":
                out.append(PAR + (self.render(args[0], depth + 1) + " " if args[0] else ""))
            elif word == "bibitem":
                out.append(PAR)
            elif isinstance(what, int):
                mandatory = [a for a, kind in zip(args, spec) if kind == "{"]
                out.append(self.render(mandatory[what] or "", depth + 1))
            elif what in ("all", "joined"):
                mandatory = [a for a, kind in zip(args, spec) if kind == "{"]
                out.append((" " if what == "all" else "").join(self.render(a or "", depth + 1) for a in mandatory))
            else:
                out.append(what)
            return k
        # An unknown macro (a font switch, a spacing command, a class's own): dropped; a braced
        # argument after it is read as text, by the caller.
        if spaced:
            out.append(" ")
        return after

    def _symbol(self, symbol: str, s: str, j: int, out: List[str], depth: int) -> int:
        if symbol in "%&#$_{}":
            out.append(symbol)
            return j
        if symbol in ACCENTS:
            (base,), k = read_args(s, j, "{")
            base = self.render(base, depth + 1) if base.startswith("\\") else base
            out.append(accented(base, symbol))
            return k
        if symbol == "\\":  # a line break, \\[2pt], \\*
            out.append(" ")
            return read_args(s, j, "*[")[1]
        if symbol in " \t\n,;:>":
            out.append(" ")
            return j
        if symbol == "(":
            end = s.find("\\)", j)
            end = len(s) if end < 0 else end
            out.append(_SPACE.sub(" ", s[j:end]).strip())
            return end + 2
        if symbol == "[":  # a display formula: left out
            end = s.find("\\]", j)
            return len(s) if end < 0 else end + 2
        if symbol == "|":
            out.append("‖")
        return j  # \! \- \/ \@ and the like: nothing

    def _dollar(self, s: str, i: int, out: List[str]) -> int:
        display = s.startswith("$$", i)
        start = i + (2 if display else 1)
        pattern = re.compile(r"\\.|\$\$" if display else r"\\.|\$|\n[ \t]*\n", re.S)
        for match in pattern.finditer(s, start):
            token = match.group()
            if token.startswith("\\"):
                continue
            if token[0] == "\n":  # a $ never closed before the paragraph's end: TeX fails; read it as text
                return start
            if not display:
                out.append(_SPACE.sub(" ", s[start:match.start()]).strip())
            return match.end()
        return start

    def _placeholder(self, s: str, j: int, out: List[str], spec: str, text: str) -> int:
        out.append(text)
        return read_args(s, j, spec)[1]

    # --- environments ---------------------------------------------------------------------

    def _environment(self, s: str, j: int, out: List[str], depth: int) -> int:
        (name,), k = read_args(s, j, "{")
        name = name.strip()
        content_start = k
        if name in ENV_ARGS:
            content_start = read_args(s, k, ENV_ARGS[name])[1]
        elif not name.startswith(("tabular", "array")):
            content_start = read_args(s, k, "[")[1]  # \begin{theorem}[Main result], \begin{figure}[t]
        end, after = _env_end(s, name, k)
        content = s[content_start:end]
        if depth + 1 > MAX_DEPTH:
            out.append(_flat(content))
            return after
        if name == "abstract":
            self.abstract.append(self.render(content, depth + 1))
        elif name in FLOATS or name.endswith("*") and name[:-1] in FLOATS:
            self.render(content, depth + 1)  # for its captions only
        elif name in DISPLAY_MATH:
            pass
        elif name in INLINE_MATH:
            out.append(_SPACE.sub(" ", content).strip())
        elif name == "thebibliography":
            out.append(PAR + mark(None, "other", "References") + PAR)
            before = len(out)
            out.append(self.render(content.replace("\\newblock", " "), depth + 1))
            for entry in "".join(out[before:]).split(PAR):
                entry = _SPACE.sub(" ", entry).strip()
                if entry:
                    self.references.append(entry)
        elif name in ACKNOWLEDGEMENTS:
            out.append(PAR + mark(None, "other", "Acknowledgments") + PAR)
            out.append(self.render(content, depth + 1))
            out.append(PAR)
        elif name == "appendices" or name == "appendix":
            self.appendix = True
            out.append(self.render(content, depth + 1))
        elif name in LISTS:
            out.append(PAR + self.render(content, depth + 1) + PAR)
        else:
            out.append(self.render(content, depth + 1))
        return after

    # --- the author's macros --------------------------------------------------------------

    def _define(self, word: str, s: str, j: int) -> int:
        if word == "let":
            match = re.compile(r"\s*\\([a-zA-Z@]+)\s*=?\s*(\\[a-zA-Z@]+|\\.|.)", re.S).match(s, j)
            if not match:
                return j
            name, target = match.group(1), match.group(2)
            if target.startswith("\\") and target[1:] in self.macros:
                self.macros[name] = self.macros[target[1:]]
            else:
                self.macros[name] = (0, None, target)
            return match.end()
        if word in ("def", "gdef", "edef", "xdef"):
            match = re.compile(r"\s*\\([a-zA-Z@]+|.)([^{]{0,60}?)\{", re.S).match(s, j)
            if not match:
                return j
            name, params = match.group(1), match.group(2)
            end = group_end(s, match.end() - 1)
            self._store(name, params.count("#"), None, s[match.end():end])
            return min(end + 1, len(s))
        (star, name, nargs, default, body), k = read_args(s, j, "*{[[{")
        name = (name or "").strip().lstrip("\\")
        try:
            count = int((nargs or "0").strip())
        except ValueError:
            count = 0
        if name and (word != "providecommand" or name not in self.macros):
            self._store(name, count, default, body or "")
        return k

    def _store(self, name: str, nargs: int, default: Optional[str], body: str) -> None:
        if len(body) > MAX_MACRO_BODY:
            self.macros.pop(name, None)
            return
        self.macros[name] = (min(max(nargs, 0), 9), default, body)

    def _expand(self, name: str, s: str, j: int, out: List[str], depth: int, spaced: bool) -> int:
        nargs, default, body = self.macros[name]
        self.expansions += 1
        if self.expansions > MAX_EXPANSIONS:
            if self.expansions == MAX_EXPANSIONS + 1:
                self.notes.append(f"more than {MAX_EXPANSIONS:,} macro expansions: the rest left unexpanded")
            return j
        if nargs == 0:
            text = self.render(body, depth + 1)
            out.append(text + (" " if spaced and text.strip() else ""))
            return _skip_space(s, j) if spaced else j
        spec = ("[" if default is not None else "{") + "{" * (nargs - 1)
        args, k = read_args(s, j, spec)
        if default is not None and args[0] is None:
            args[0] = default
        values = [a or "" for a in args]
        expanded = _PARAM.sub(lambda m: "#" if m.group(1) == "#" else
                              (values[int(m.group(1)) - 1] if int(m.group(1)) <= len(values) else ""), body)
        out.append(self.render(expanded, depth + 1))
        return k
