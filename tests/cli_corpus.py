"""Corpora that the command-line tests write themselves: good and broken files of every format."""
import json
import random
import shutil
from pathlib import Path
from typing import List

from tiny_data import PAPERS

# Record ids of the mixed folder, in the order the command must write them
# (files sorted by relative path; records in file order), and the reason of
# each broken one (None: annotated).
MIXED_EXPECTED = [
    ("a_paper.txt", None),
    ("b_crlf.txt", None),
    ("c_notes.md", None),
    ("d_empty.txt", "empty text"),
    ("e_binary.txt", "binary content"),
    ("f_latin1.txt", "not UTF-8 text"),
    ("g_huge.txt", "text too long"),
    ("h_broken.xml", "cannot read jats"),
    ("i_records.jsonl:1", None),  # no id field: file and line
    ("rec-2", None),
    ("i_records.jsonl:3", "malformed JSON"),
    ("i_records.jsonl:4", "not a JSON object"),
    ("rec-5", "record has no text field (pass --text-columns)"),
    ("rec-2", None),  # a duplicate id is kept: records are matched by position
    ("A1", None),
    ("A2", "empty text"),
    ("A3", None),
    ("A4", "not UTF-8 text"),
    ("n_paper.jats.xml", None),
    ("o_paper.tei.xml", None),
    ("p_paper.s2orc.json", None),  # one paper per file: the file name is its id
    ("2299.00001", None),  # a JSONL file of papers: each paper's own id
    ("2299.00002", None),
    ("q_papers.unarxive.jsonl:3", "malformed JSON"),
    ("r_malformed.s2orc.json", "malformed JSON"),
    ("sub/l_paper.txt", None),
]


def write_mixed_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a_paper.txt").write_text(PAPERS[0][0], encoding="utf8")
    # Line endings and a non-ASCII character kept as they are: offsets index the file's text.
    (folder / "b_crlf.txt").write_bytes(PAPERS[3][0].replace("\n", "\r\n").replace("El Nino", "El Niño").encode("utf8"))
    (folder / "c_notes.md").write_text(
        "# Neural language models\n\n## Abstract\nWe propose a neural language model.\n\n## Results\nThe model improves.\n",
        encoding="utf8",
    )
    (folder / "d_empty.txt").write_bytes(b"  \n\n")
    (folder / "e_binary.txt").write_bytes(b"\x00\x01\x02\x03PK\x03\x04" * 300)
    (folder / "f_latin1.txt").write_bytes("Caf\u00e9 and drought in Europe".encode("latin-1"))
    (folder / "g_huge.txt").write_text("drought in europe. " * 270_000, encoding="utf8")  # 5.1 MB
    (folder / "h_broken.xml").write_text(
        '<?xml version="1.0"?>\n<article><front><article-title>Drought</article-title></front><body><sec><p>unclosed',
        encoding="utf8",
    )
    lines = [
        json.dumps({"title": "Drought in Europe", "abstract": "We study drought and heat wave trends."}),
        json.dumps({"id": "rec-2", "text": "Cancer patients in a surgery trial."}),
        '{"id": "rec-3", "text": ',
        "[1, 2, 3]",
        json.dumps({"id": "rec-5", "body": "no text field here"}),
        "",
        json.dumps({"id": "rec-2", "text": "Neural language models for science."}),
    ]
    (folder / "i_records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf8")
    rows = (
        b"id,title,abstract\r\n"
        b"A1,Surgery trial,\"Patients, surgery and \"\"drug\"\" treatment.\"\r\n"
        b"A2,,\r\n"
        b"A3,Rainfall in Africa,El Nino drives rainfall.\r\n"
        b"A4,Caf\xe9,latin-1 bytes\r\n"
    )
    (folder / "j_awards.csv").write_bytes(rows)
    (folder / "k_figure.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    papers = Path(__file__).parent / "fixtures" / "papers"
    shutil.copyfile(papers / "paper.jats.xml", folder / "n_paper.jats.xml")
    shutil.copyfile(papers / "paper.tei.xml", folder / "o_paper.tei.xml")
    shutil.copyfile(papers / "paper.s2orc.json", folder / "p_paper.s2orc.json")
    unarxive = json.loads((papers / "paper.unarxive.jsonl").read_text(encoding="utf8"))
    second = {**unarxive, "paper_id": "2299.00002"}
    (folder / "q_papers.unarxive.jsonl").write_text(
        json.dumps(unarxive) + "\n" + json.dumps(second) + "\n" + '{"paper_id": "2299.00003", "body_text": [\n',
        encoding="utf8",
    )
    shutil.copyfile(papers / "malformed.s2orc.json", folder / "r_malformed.s2orc.json")
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / "l_paper.txt").write_text(PAPERS[2][0], encoding="utf8")
    return folder


def write_records(path: Path, n: int, seed: int = 0) -> List[str]:
    """``n`` JSONL records (title + abstract) from the tiny vocabulary; every 97th has empty text."""
    rng = random.Random(seed)
    from tiny_data import WORDS

    ids = []
    with path.open("w", encoding="utf8") as file:
        for i in range(n):
            rid = f"r{i:04d}"
            if i % 97 == 13:
                record = {"id": rid, "title": "", "abstract": " "}
            else:
                title = " ".join(rng.choices(WORDS, k=rng.randint(2, 8)))
                abstract = " ".join(rng.choices(WORDS, k=rng.randint(5, 60)))
                record = {"id": rid, "title": title, "abstract": abstract}
            file.write(json.dumps(record) + "\n")
            ids.append(rid)
    return ids
