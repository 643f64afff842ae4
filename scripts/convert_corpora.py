"""Convert the data sets into spaCy's binary format (``.spacy``), one file per set and split.

    python scripts/convert_corpora.py --data-dir DATA_DIR --output corpus

Writes, with the splits the training and evaluation scripts use:

- ``sections-<collection>-<split>.spacy``: the PLOS, unarXive and S2ORC papers read by
  ``spacy_scicls.readers``, each section labelled with its silver IMRaD role
  (sections whose heading names no role are left out; ``span._.heading`` is kept);
- ``cats-<split>.spacy``: the arXiv and NIHR records, ``doc.cats["<taxonomy>/<code>"] = 1.0``
  for their labels (ERC panels silver, through the crosswalk), split by a seeded hash of the title;
- ``entities-<corpus>-<split>.spacy``: ClimateIE, SciERC and BiodivNER with their entities in ``doc.ents``.

With these, ``spacy evaluate`` scores a pipeline on a test split with the components' own scorers, e.g.
``python -m spacy evaluate en_scicls_default corpus/entities-climateie-test.spacy``, and ``spacy train``
can read them (`--output metrics.json` holds the scores the table does not show, e.g. ``sections_f``).
Every file is listed with its document count; a set whose folder is missing from the data folder is named
and skipped, and a malformed file stops the script with the reader's error.
"""
import argparse
import os
import sys
from pathlib import Path

import spacy
from spacy.tokens import DocBin

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))


def write(docs, path: Path) -> None:
    docs = list(docs)
    if not docs:
        print(f"  {path.name:40s} skipped: no documents found")
        return
    DocBin(docs=docs, store_user_data=True).to_disk(path)
    print(f"  {path.name:40s} {len(docs):5d} docs")


def convert_sections(data_dir: Path, output: Path, nlp) -> None:
    from spacy_scicls.corpora.papers import COLLECTIONS, iter_papers
    from spacy_scicls.corpora.sections import silver_doc

    for collection in COLLECTIONS:
        for split in ("train", "test"):
            docs = [silver_doc(doc, nlp) for doc in iter_papers(data_dir, collection, split, nlp)]
            write(docs, output / f"sections-{collection}-{split}.spacy")


def convert_categories(data_dir: Path, output: Path, nlp, seed: int) -> None:
    from _cats_common import load_splits

    from spacy_scicls.corpora import records_to_docs

    if not (data_dir / "cats").is_dir():
        print(f"  cats: skipped (no folder {data_dir / 'cats'})")
        return
    splits = load_splits(data_dir, seed)
    for split, records in splits.items():
        write(records_to_docs(nlp, records), output / f"cats-{split}.spacy")


def convert_entities(data_dir: Path, output: Path, nlp, seed: int) -> None:
    from spacy_scicls.corpora.entities import load_entity_corpus

    folders = {
        "climateie": data_dir / "papers" / "climateie",
        "scierc": data_dir / "entities" / "scierc",
        "biodivner": data_dir / "entities" / "biodivner",
    }
    for corpus, folder in folders.items():
        if not folder.is_dir():
            print(f"  entities {corpus}: skipped (no folder {folder})")
            continue
        splits, counts = load_entity_corpus(corpus, data_dir, nlp, seed=seed)
        for split, docs in splits.items():
            write(docs, output / f"entities-{corpus}-{split}.spacy")
        print(f"  {corpus} alignment: {counts.summary()}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    env = os.environ.get("SCICLS_DATA_DIR")
    parser.add_argument("--data-dir", type=Path, default=Path(env) if env else None, required=env is None)
    parser.add_argument("--output", type=Path, default=REPO / "corpus")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the category and entity splits")
    parser.add_argument("--sets", nargs="+", default=["sections", "categories", "entities"],
                        choices=["sections", "categories", "entities"])
    args = parser.parse_args(argv)
    import spacy_scicls  # noqa: F401 (extensions)

    nlp = spacy.blank("en")
    args.output.mkdir(parents=True, exist_ok=True)
    print(f"writing to {args.output}")
    if "sections" in args.sets:
        convert_sections(args.data_dir, args.output, nlp)
    if "categories" in args.sets:
        convert_categories(args.data_dir, args.output, nlp, args.seed)
    if "entities" in args.sets:
        convert_entities(args.data_dir, args.output, nlp, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
