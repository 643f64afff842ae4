"""LaTeX sources as arXiv and authors have them: one .tex file, a tarball with \\input and a .bbl, arXiv's
extensionless gzipped e-print, a folder; and the bad ones (fragments, unbalanced braces, include loops,
archives with thousands of files, binary junk, Latin-1, empty files). Sources written by the tests."""
import gzip
import json
import time
from pathlib import Path

import pytest
import spacy

from archives import tar_bytes
from cli_slow_pipeline import save_slow_pipeline
from spacy_scicls.cli import run_annotate
from spacy_scicls.cli.inputs import RecordError, expand_inputs, iter_records
from spacy_scicls.readers import ReaderError, detect_format, read_paper
from spacy_scicls.readers._build import Paper
from spacy_scicls.readers.latex import Limits, SourceError, read_latex_bytes
from spacy_scicls.readers.latex.markup import Renderer
from spacy_scicls.readers.latex.source import from_tar

ONE_FILE = r"""% arXiv submission, camera-ready
\documentclass[twocolumn]{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,graphicx}
\newcommand{\model}{DroughtNet}
\newcommand{\R}{\mathbb{R}}
\newcommand{\term}[1]{\emph{#1}}
\title{Attributing Drought to Warming: a Study with \model\thanks{Code at example.org}}
\author{A. Author \and B. Author}
\begin{document}
\maketitle
\begin{abstract}
We attribute the drying of the M\'editerran\'ee to warming with \model, 50\% of it
% a comment that must go
from station records.

A second paragraph of the abstract.
\end{abstract}

\section{Introduction}\label{sec:intro}
Droughts are costly~\cite{smith2020,doe2019}---and getting worse. See Section~\ref{sec:methods}
and the ``classic'' study of Schr\"odinger\footnote{Not that one.}: the \term{attribution} problem.
Let $x_i \in \R$ be a yearly rainfall total, with
\begin{equation}
  x_i = \alpha + \beta t_i + \epsilon_i ,
\end{equation}
where $\alpha$ is the intercept.
\begin{figure}[t]
  \centering
  \includegraphics[width=\linewidth]{fig1.pdf}
  \caption{Rainfall in the Mediterranean, 1950--2020.}\label{fig:rain}
\end{figure}
\iffalse
An old paragraph the authors commented out.
\fi

\section[Methods]{Materials and Methods}\label{sec:methods}
\subsection{Data}
Station records from the \textbf{ECA\&D} archive \cite{doe2019}.
\subsubsection*{Quality control}
Records with gaps were dropped.
\paragraph{Homogenisation.} Breaks were corrected.

\section*{Results}
Warming explains most of the trend.
\begin{itemize}
\item first finding;
\item[(b)] second finding.
\end{itemize}

\section{Conclusion}
It will get worse.

\appendix
\section{Supplementary tables}
Tables of the stations.

\begin{thebibliography}{9}
\bibitem{smith2020} J.~Smith. \newblock Droughts. \newblock \emph{Nature}, 2020.
\bibitem[Doe(2019)]{doe2019} J.~Doe. Rain. 2019.
\end{thebibliography}
\end{document}
"""




MAIN = rb"""\documentclass{revtex4-2}
\input{macros}
\begin{document}
\title{Heat Waves in Cities}
\begin{abstract}
Cities are hotter than their surroundings.
\end{abstract}
\maketitle
\input{sections/intro}
\include{sections/methods.tex}
\input sections/results
\bibliography{refs}
\end{document}
"""
MULTI_FILE = {
    "./main.tex": MAIN,
    "./._main.tex": b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02",  # macOS resource fork: junk
    "macros.tex": rb"\newcommand{\city}{Z\"urich}",
    "sections/intro.tex": rb"\section{Introduction} The urban heat island of \city{} \citep{oke1982}.",
    "sections/methods.tex": rb"\section{Methods} We use satellite land surface temperature.",
    "sections/results.tex": rb"""\section{Results}\subsection{Day and night} Nights warm most.
\begin{figure}\includegraphics[width=3cm]{figures/map.png}\includegraphics{figures/plot}\caption{Heat.}\end{figure}""",
    "old_draft.tex": rb"\section{An abandoned draft} Not part of the paper.",
    "main.bbl": rb"""\begin{thebibliography}{1}
\providecommand{\natexlab}[1]{#1}
\expandafter\ifx\csname urlstyle\endcsname\relax\fi
\bibitem[{Oke(1982)}]{oke1982} T.~R. Oke. 1982. \newblock The energetic basis of the urban heat island.
\end{thebibliography}
""",
    "figures/map.png": b"\x89PNG\r\n\x1a\n" + bytes(200),
    "figures/plot.pdf": b"%PDF-1.4 a figure, not a paper",
}


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en")


def headings(doc):
    return [(s._.heading, s._.section_level, s.label_) for s in doc.spans["sections"]]


def test_one_file_paper(nlp, tmp_path):
    path = tmp_path / "main.tex"
    path.write_text(ONE_FILE, encoding="utf8")
    doc = read_paper(path, nlp)
    meta = doc._.scicls_meta
    assert meta["format"] == "latex"
    assert meta["title"] == "Attributing Drought to Warming: a Study with DroughtNet"
    assert meta["abstract"] == ("We attribute the drying of the Méditerranée to warming with DroughtNet, 50% of it "
                                "from station records.\n\nA second paragraph of the abstract.")
    assert headings(doc) == [
        ("Abstract", 1, "abstract"),
        ("Introduction", 1, "unlabelled"),
        ("Materials and Methods", 1, "unlabelled"),
        ("Data", 2, "unlabelled"),
        ("Quality control", 3, "unlabelled"),
        ("Homogenisation.", 4, "unlabelled"),
        ("Results", 1, "unlabelled"),
        ("Conclusion", 1, "unlabelled"),
        ("Supplementary tables", 1, "other"),  # after \appendix
        ("References", 1, "other"),
    ]
    sections = {s._.heading: s.text for s in doc.spans["sections"]}
    intro = sections["Introduction"]
    assert "Droughts are costly [1, 2]—and getting worse. See Section [ref] and the “classic” study of Schrödinger:" in intro
    assert "the attribution problem" in intro and "Not that one" not in intro  # footnotes are left out
    assert "Let x_i \\in \\R be a yearly rainfall total, with where \\alpha is the intercept." in intro
    assert "\\beta" not in doc.text and "old paragraph" not in doc.text and "comment" not in doc.text
    assert "Rainfall" not in doc.text and meta["captions"] == ["Rainfall in the Mediterranean, 1950–2020."]
    assert "ECA&D archive [2]" in sections["Data"]
    assert "first finding;\n\n(b) second finding." in sections["Results"]
    assert meta["references"] == ["J. Smith. Droughts. Nature, 2020.", "J. Doe. Rain. 2019."]
    assert "\\" not in doc.text.replace("\\in \\R", "").replace("\\alpha", "")
    assert meta["latex"] == {"main_file": "main.tex", "fragment": False, "other_main_files": [], "notes": []}
    # the same source given as a str or bytes, and found by its first bytes without a name
    assert read_paper(ONE_FILE.encode(), nlp).text == doc.text
    assert detect_format(None, ONE_FILE.encode()[:4096]) == "latex"


def _check_multi_file_in(doc, main):
    assert [h for h, _, _ in headings(doc)] == ["Abstract", "Introduction", "Methods", "Results", "Day and night", "References"]
    assert doc._.scicls_meta["latex"]["main_file"] == main and doc._.scicls_meta["latex"]["notes"] == []


def _check_multi_file(doc, name):
    meta = doc._.scicls_meta
    assert meta["title"] == "Heat Waves in Cities" and meta["abstract"] == "Cities are hotter than their surroundings."
    assert headings(doc) == [("Abstract", 1, "abstract"), ("Introduction", 1, "unlabelled"), ("Methods", 1, "unlabelled"),
                             ("Results", 1, "unlabelled"), ("Day and night", 2, "unlabelled"), ("References", 1, "other")]
    assert "urban heat island of Zürich [1]" in doc.text and "abandoned" not in doc.text
    assert meta["references"] == ["T. R. Oke. 1982. The energetic basis of the urban heat island."]
    assert meta["latex"]["main_file"] == "main.tex", name
    assert meta["latex"]["notes"] == [], name


def test_a_multi_file_tarball_with_input_include_and_a_bbl(nlp, tmp_path):
    data = tar_bytes(MULTI_FILE)
    (tmp_path / "source.tar.gz").write_bytes(data)
    _check_multi_file(read_paper(tmp_path / "source.tar.gz", nlp), "tar.gz")
    _check_multi_file(read_paper(data, nlp), "bytes")
    # a source packed with its folder: includes are read from the main file's folder, as TeX run there reads them
    nested = tar_bytes({f"heat/{name.removeprefix('./')}": data for name, data in MULTI_FILE.items()})
    _check_multi_file_in(read_paper(nested, nlp), "heat/main.tex")
    # arXiv's e-print: the same gzipped tar, named by its identifier alone
    (tmp_path / "2301.01234").write_bytes(data)
    _check_multi_file(read_paper(tmp_path / "2301.01234", nlp), "e-print")


def test_an_extensionless_gzipped_single_tex_eprint(nlp, tmp_path):
    (tmp_path / "2212.11885").write_bytes(gzip.compress(ONE_FILE.encode()))
    doc = read_paper(tmp_path / "2212.11885", nlp)
    assert doc._.scicls_meta["title"].startswith("Attributing Drought") and len(doc.spans["sections"]) == 10


def test_a_folder_of_sources_is_one_paper_whose_parts_are_skipped(tmp_path):
    source = tmp_path / "papers" / "heat"
    for name, data in MULTI_FILE.items():
        if "._" not in name:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes(data)
    (tmp_path / "papers" / "notes.txt").write_text("A paper as text.\n", encoding="utf8")
    files, skipped = expand_inputs([str(tmp_path / "papers")])
    assert files == [source / "main.tex", tmp_path / "papers" / "notes.txt"]
    assert len(skipped) == len(MULTI_FILE) - 2  # the parts, the draft, the .bbl and the figures
    nlp = spacy.blank("en")
    records = list(iter_records([str(tmp_path / "papers")]))
    assert [r.id for r in records] == ["heat/main.tex", "notes.txt"]
    _check_multi_file(records[0].load(nlp), "folder")


def test_bad_inputs_give_a_doc_or_a_clear_error(nlp, tmp_path):
    # a fragment: no \begin{document}, read anyway
    doc = read_paper(b"\\section{Results}\nIt rained {\\em a lot}.", nlp, format="latex")
    assert headings(doc) == [("Results", 1, "unlabelled")] and doc._.scicls_meta["latex"]["fragment"]
    # unbalanced braces both ways: the text is kept
    doc = read_paper(b"\\documentclass{article}\\begin{document}\\section{Intro} a }} b {\\bf c {d\n\n"
                     b"\\section{Next} e\\end{document}", nlp)
    assert "a b c d" in doc.text
    # an \input loop, and includes outside the source: refused, noted, no hang
    loop = tar_bytes({"main.tex": b"\\documentclass{article}\\begin{document}\\input{a}\\input{../../etc/passwd}"
                                  b"\\input{/etc/hostname}\\end{document}",
                      "a.tex": b"\\section{A} text a \\input{b}", "b.tex": b"text b \\input{a}"}, compress=False)
    doc = read_paper(loop, nlp)
    assert "text a text b" in doc.text
    notes = doc._.scicls_meta["latex"]["notes"]
    assert "\\input{a}: includes itself (a loop): left out" in notes
    assert "\\input{../../etc/passwd}: outside the source: refused" in notes
    assert "\\input{/etc/hostname}: outside the source: refused" in notes
    # Latin-1 that says so (common on arXiv), and Latin-1 that does not
    latin = "\\documentclass{article}\\usepackage[latin1]{inputenc}\\begin{document}\\section{Résumé} Zürich.\\end{document}"
    assert headings(read_paper(latin.encode("latin-1"), nlp))[0][0] == "Résumé"
    with pytest.raises(ReaderError, match=r"input: not UTF-8 \(byte 0xe9 at offset 49\) and no .*inputenc"):
        read_paper(latin.replace("\\usepackage[latin1]{inputenc}", "").encode("latin-1"), nlp)
    # Latin-1 in an author's comments only (they are not read): read, the text as written
    noted = "\\documentclass{article}\\begin{document}% à revoir, Zoé\n\\section{Results} It rained.\\end{document}"
    doc = read_paper(noted.encode("latin-1"), nlp, format="latex")
    assert headings(doc) == [("Results", 1, "unlabelled")] and "It rained." in doc.text and "Zo" not in doc.text
    # binary junk under a .tex name, an empty file, a preamble only
    (tmp_path / "junk.tex").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ReaderError, match="junk.tex: .*binary content"):
        read_paper(tmp_path / "junk.tex", nlp)
    (tmp_path / "empty.tex").write_bytes(b"")
    with pytest.raises(ReaderError, match="empty.tex: is empty"):
        read_paper(tmp_path / "empty.tex", nlp)
    with pytest.raises(ReaderError, match="holds no text"):
        read_paper(b"\\documentclass{article}\n\\usepackage{amsmath}\n", nlp, format="latex")
    # a section command inside a section's title, and the private-use characters the reader marks sections
    # with, in the source itself: read, the marks unbroken
    odd = ("\\documentclass{article}\\begin{document}\\section{Rain \\section{Snow} here}Text \ue000 odd \ue001 \ue002."
           "\\section{Methods}We counted.\\end{document}")
    assert headings(read_paper(odd.encode(), nlp)) == [("Rain Snow here", 1, "unlabelled"), ("Methods", 1, "unlabelled")]
    # an archive with LaTeX's ending but no readable .tex
    with pytest.raises(ReaderError, match="no readable .tex file"):
        read_paper(tar_bytes({"main.tex": b"\x00\x01binary", "fig.png": b"x"}), nlp)


def test_hostile_macros_and_nesting_end_quickly():
    start = time.perf_counter()
    renderer = Renderer()
    out = renderer.render("\\def\\a{\\a}\\def\\b{\\b\\b}\\newcommand{\\c}[1]{\\c{#1}}\\a \\b \\c{x} done " + "{" * 5000 + "deep")
    assert "done" in out and "deep" in out
    assert any("macro expansions" in note for note in renderer.notes)
    # brackets, environments and verbatim blocks that never close: each read once, not once per opening
    for junk in ("\\item[" * 20000, "\\begin{a}" * 5000, "\\textbf{" * 20000, "$" * 20001):
        Renderer().render(junk)
    from spacy_scicls.readers.latex.source import strip_comments

    assert strip_comments("\\begin{comment}" * 20000 + "x") == " "
    assert time.perf_counter() - start < 60  # bounded work, not a timing: each of these would not end otherwise


def test_archives_with_too_many_files_or_a_huge_member_are_bounded():
    many = tar_bytes({f"f{i}.png": b"" for i in range(60)} | {"main.tex": b"\\documentclass{article}"}, compress=False)
    with pytest.raises(SourceError, match="more than 50 files"):
        from_tar(many, "many", Limits(max_members=50))
    huge = tar_bytes({"main.tex": b"\\documentclass{article}\\begin{document}" + b"x" * 5000 + b"\\end{document}"})
    paper = Paper(format="latex", source="huge")
    with pytest.raises(SourceError, match="no readable .tex file .*main.tex: 5,053 bytes, more than 1,000: skipped"):
        read_latex_bytes(gzip.decompress(huge), paper, limits=Limits(max_file_bytes=1000))


def test_scicls_annotate_reads_sources_as_one_record_each(tmp_path):
    pipe = save_slow_pipeline(tmp_path / "pipe")
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a_paper.tex").write_text(ONE_FILE, encoding="utf8")
    (inputs / "b_2301.01234.tar.gz").write_bytes(tar_bytes(MULTI_FILE))
    (inputs / "c_2212.11885").write_bytes(gzip.compress(ONE_FILE.encode()))  # no ending: given by a glob
    (inputs / "d_latin.tex").write_bytes(b"\\documentclass{article}\\begin{document}\\section{R\xe9sum\xe9} x\\end{document}")
    (inputs / "e_junk.tex").write_bytes(b"\\documentclass{article}" + bytes(range(32)) * 20)
    out = tmp_path / "out.jsonl"
    assert run_annotate([str(inputs), str(inputs / "c_*")], out, model=str(pipe), quiet=True) == 1
    records = [json.loads(line) for line in out.read_text(encoding="utf8").splitlines()]
    assert [r["id"] for r in records] == ["a_paper.tex", "b_2301.01234.tar.gz", "d_latin.tex", "e_junk.tex",
                                          "c_2212.11885"]
    by_id = {r["id"]: r for r in records}
    for rid in ("a_paper.tex", "c_2212.11885"):
        assert by_id[rid]["error"] is None
        assert [s["heading"] for s in by_id[rid]["sections"]][:3] == ["Abstract", "Introduction", "Materials and Methods"]
    assert [s["heading"] for s in by_id["b_2301.01234.tar.gz"]["sections"]] == [
        "Abstract", "Introduction", "Methods", "Results", "Day and night", "References"]
    assert by_id["d_latin.tex"]["error"].startswith("not UTF-8 text: ") and "--encoding" in by_id["d_latin.tex"]["error"]
    assert by_id["e_junk.tex"]["error"] == "binary content: the file is not text"
    # --encoding reads the Latin-1 file that does not say its encoding
    out2 = tmp_path / "out2.jsonl"
    assert run_annotate([str(inputs / "d_latin.tex")], out2, model=str(pipe), quiet=True, encoding="latin-1") == 0
    assert json.loads(out2.read_text(encoding="utf8"))["sections"][0]["heading"] == "Résumé"
    # the command line, with --format latex on an e-print (found a tar by its first bytes)
    from typer.testing import CliRunner

    from spacy_scicls.cli import app

    out3 = tmp_path / "out3.jsonl"
    result = CliRunner().invoke(app, ["annotate", str(inputs / "b_2301.01234.tar.gz"), "--format", "latex",
                                      "--output", str(out3), "--model", str(pipe), "-q"])
    assert result.exit_code == 0, result.stderr
    record = json.loads(out3.read_text(encoding="utf8"))
    assert record["id"] == "b_2301.01234.tar.gz" and record["text"].startswith("Heat Waves in Cities\n\nAbstract\n")


def test_an_archive_of_papers_with_a_tex_member_is_still_read_member_by_member(tmp_path):
    members = {"pkg/a.nxml": (Path(__file__).parent / "fixtures" / "papers" / "paper.jats.xml").read_bytes(),
               "pkg/b.tex": b"\\section{Alone} text"}
    (tmp_path / "pkg.tar").write_bytes(tar_bytes(members, compress=False))
    records = list(iter_records([str(tmp_path / "pkg.tar")]))
    assert [r.id for r in records] == ["pkg.tar/pkg/a.nxml", "pkg.tar/pkg/b.tex"]
    assert headings(records[1].load(spacy.blank("en"))) == [("Alone", 1, "unlabelled")]
    with pytest.raises(RecordError, match="empty text"):
        from spacy_scicls.cli.inputs import paper_content

        paper_content(b"   ", spacy.blank("en"), "latex", "x.tex", 1000)


TEMPLATES = {
    # APS's revtex: abstract before \maketitle, affiliations, an acknowledgments environment
    "revtex": r"""\documentclass[aps,prl,reprint,superscriptaddress]{revtex4-2}
\begin{document}
\preprint{APS/123-QED}
\title{Phonons in a \texorpdfstring{$2\times 2$}{2x2} lattice}
\author{C. Author}\affiliation{A University}\email{c@example.org}
\begin{abstract}
We measure phonons.
\end{abstract}
\pacs{63.20.-e}
\maketitle
\section{Introduction}
Phonons matter, \ie they carry heat.
\begin{acknowledgments}
We thank the reviewers.
\end{acknowledgments}
\end{document}""",
    # ACM's acmart: CCS concepts and keywords are front matter, not text
    "acmart": r"""\documentclass[sigconf]{acmart}
\acmConference[Conf '24]{Conference}{June}{Place}
\begin{document}
\title{Ranking Papers}
\begin{abstract}We rank papers.\end{abstract}
\begin{CCSXML}
<ccs2012><concept><concept_id>10002951</concept_id></concept></ccs2012>
\end{CCSXML}
\ccsdesc[500]{Information systems~Retrieval models}
\keywords{ranking, retrieval}
\maketitle
\section{Introduction}
Ranking is old.
\begin{acks}
Funded by a grant.
\end{acks}
\end{document}""",
    # IEEE: a drop cap and keywords
    "ieeetran": r"""\documentclass[conference]{IEEEtran}
\begin{document}
\title{Grid Stability}
\maketitle
\begin{abstract}
We study grids.
\end{abstract}
\begin{IEEEkeywords}
power, grid
\end{IEEEkeywords}
\section{Introduction}
\IEEEPARstart{T}{his} paper studies grids.
\end{document}""",
    # ICML: the title inside \twocolumn's optional argument
    "icml": r"""\documentclass{article}
\usepackage{icml2024}
\begin{document}
\twocolumn[
\icmltitle{Sparse Attention at Scale}
\icmlsetsymbol{equal}{*}
\begin{icmlauthorlist}
\icmlauthor{D. Author}{a}
\end{icmlauthorlist}
\icmlaffiliation{a}{Somewhere}
\icmlkeywords{attention}
]
\begin{abstract}
Attention is sparse.
\end{abstract}
\section{Introduction}
Transformers attend.
\end{document}""",
}
EXPECTED = {
    "revtex": ("Phonons in a 2\\times 2 lattice", "We measure phonons.",
               [("Introduction", "Phonons matter, i.e. they carry heat."), ("Acknowledgments", "We thank the reviewers.")]),
    "acmart": ("Ranking Papers", "We rank papers.",
               [("Introduction", "Ranking is old."), ("Acknowledgments", "Funded by a grant.")]),
    "ieeetran": ("Grid Stability", "We study grids.", [("Introduction", "This paper studies grids.")]),
    "icml": ("Sparse Attention at Scale", "Attention is sparse.", [("Introduction", "Transformers attend.")]),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_the_publishers_templates(nlp, template):
    doc = read_paper(TEMPLATES[template].encode(), nlp, name=f"{template}.tex")
    title, abstract, sections = EXPECTED[template]
    meta = doc._.scicls_meta
    assert (meta["title"], meta["abstract"]) == (title, abstract)
    got = [(s._.heading, doc.text[s.start_char:s.end_char].split("\n", 1)[1]) for s in list(doc.spans["sections"])[1:]]
    assert got == sections
    assert doc.text.startswith(title + "\n\nAbstract\n" + abstract + "\n\n")  # no front matter left in the text
