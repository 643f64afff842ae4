"""Characters that PDF-to-text tools copy from the PDF's fonts: ligatures and TeX's separate accents.

A PDF sets "fi" as the one glyph "ﬁ" (U+FB01), and TeX sets an accent as a
character of its own before its letter ("Lemaˆıtre" for "Lemaître": a
spacing circumflex, then a dotless i). pypdfium2, pdfminer.six and
pdfplumber pass both on to the text: a heading "Classiﬁcation" is then no
usual section name, and the encoder's vocabulary has no "ﬁ".
:func:`normalise_glyphs` writes the Latin ligatures (U+FB00-FB06) as their
letters and composes a spacing accent (circumflex, acute, diaeresis, tilde,
caron, cedilla, ring) with the letter right after it, where Unicode has the
accented letter as one character (the dotless i taking its accent as "i").
Nothing else changes: no ASCII "^" or "`" (Markdown, code, exponents), no
accent before a space, a digit or a letter that Unicode has no accented form
of; and :class:`GlyphText` counts what was done.
"""
import re
import unicodedata
from dataclasses import dataclass

_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
              "\ufb05": "st", "\ufb06": "st"}
_LIGATURE = re.compile("[\ufb00-\ufb06]")
#: The spacing accents TeX fonts set, and the combining accents they stand for.
_ACCENTS = {"\u02c6": "\u0302", "\u00b4": "\u0301", "\u00a8": "\u0308", "\u02dc": "\u0303", "\u02c7": "\u030c",
            "\u00b8": "\u0327", "\u02da": "\u030a"}
_SPACING_ACCENT = re.compile("([\u02c6\u00b4\u00a8\u02dc\u02c7\u00b8\u02da])([A-Za-z\u0131\u0237])")
_DOTLESS = {"\u0131": "i", "\u0237": "j"}
#: An acute accent typed for an apostrophe, as some keyboards give it ("it\u00b4s", "we\u00b4re"): a
#: contraction's ending after it, then the end of the word. TeX's "Wi\u00b4sniewski" goes on after the "s".
_APOSTROPHE = re.compile("(?<=[A-Za-z])\u00b4(?=(?:s|t|m|d|ll|re|ve)(?![A-Za-z]))")


@dataclass(frozen=True)
class GlyphText:
    """The text with ligatures written out and accents composed, and how many of each."""

    text: str
    ligatures: int = 0
    accents: int = 0

    def meta(self) -> dict:
        """What the reader records in ``doc._.scicls_meta["glyphs_normalised"]``."""
        return {"ligatures": self.ligatures, "accents": self.accents}


def normalise_glyphs(text: str) -> GlyphText:
    """``text`` with its ligatures and TeX's separate accents as plain letters (see the module)."""
    ligatures = accents = 0

    def letters(match: re.Match) -> str:
        nonlocal ligatures
        ligatures += 1
        return _LIGATURES[match.group(0)]

    def compose(match: re.Match) -> str:
        nonlocal accents
        if _APOSTROPHE.match(match.string, match.start()):
            return match.group(0)
        letter = _DOTLESS.get(match.group(2), match.group(2))
        composed = unicodedata.normalize("NFC", letter + _ACCENTS[match.group(1)])
        if len(composed) != 1:
            return match.group(0)
        accents += 1
        return composed

    if _LIGATURE.search(text):
        text = _LIGATURE.sub(letters, text)
    if _SPACING_ACCENT.search(text):
        text = _SPACING_ACCENT.sub(compose, text)
    return GlyphText(text, ligatures, accents)


__all__ = ["GlyphText", "normalise_glyphs"]
