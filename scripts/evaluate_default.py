"""Evaluate every head of an assembled pipeline (by default the installed ``en_scicls_default``) on held-out data.

    python scripts/evaluate_default.py --model en_scicls_default --data-dir DATA_DIR

The pipeline is evaluated as users run it, all heads together on one shared
transformer:

- sections: ``scripts/evaluate_sections.py --pipeline <the pipeline's folder>``
  (heading detection on plain text of the held-out GROBID, PLOS and unarXive
  papers; IMRaD labels against PLOS gold ``sec-type`` and silver labels, with
  and without headings);
- categories: ``scripts/evaluate_categories.py --model <name>`` (the seeded test
  split of the arXiv and NIHR sets, beside the logistic-regression baselines;
  then ``--reviewed test``: the ERC head on the test half of the reviewer-labelled
  real abstracts, ``scripts/data/erc_reviewed.csv``);
- entities: the ClimateIE test papers (the seeded split the entity head was not
  trained or tuned on) as plain text through ``nlp.pipe``, entities compared with
  the gold ones by character offsets and type (strict), per type and overall.

``--heads`` picks a subset (sections, categories, entities).
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
sys.path.insert(0, str(SCRIPTS))
HEAD_GROUPS = ("sections", "categories", "entities")


def pipeline_folder(model: str) -> Path:
    """The folder a pipeline loads from: ``model`` itself, or an installed package's data folder."""
    import spacy

    path = Path(model)
    if path.exists():
        return path
    if spacy.util.is_package(model):
        package = Path(spacy.util.get_package_path(model))
        meta = spacy.util.get_model_meta(package)
        folder = package / f"{meta['lang']}_{meta['name']}-{meta['version']}"
        if folder.exists():
            return folder
    raise SystemExit(f"error: no pipeline folder or installed package named {model!r}")


def evaluate_entities(nlp, data_dir: str, seed: int) -> Dict[str, Tuple[float, float, float, int]]:
    """Strict P/R/F1 per type and overall (``prf`` of the entity evaluation script)."""
    from evaluate_entities import gold_set, prf

    from spacy_scicls.corpora.entities import load_entity_corpus

    splits, _ = load_entity_corpus("climateie", data_dir, nlp, seed=seed)
    test = splits["test"]
    preds = [
        {(e.start_char, e.end_char, e.label_) for e in doc.ents}
        for doc in nlp.pipe((doc.text for doc in test), batch_size=4)
    ]
    return prf([gold_set(doc) for doc in test], preds)


def run_script(script: str, *args: str) -> int:
    command = [sys.executable, str(SCRIPTS / script), *args]
    print(f"$ {' '.join(command[1:])}", flush=True)
    return subprocess.run(command, cwd=str(REPO)).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="en_scicls_default", help="installed package name or pipeline folder")
    parser.add_argument("--data-dir", default=os.environ.get("SCICLS_DATA_DIR"),
                        help="the data folder (papers/, cats/; default: $SCICLS_DATA_DIR)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the category and entity splits")
    parser.add_argument("--heads", nargs="+", default=list(HEAD_GROUPS), choices=HEAD_GROUPS)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("give --data-dir or set SCICLS_DATA_DIR")
    folder = pipeline_folder(args.model)
    failed = 0
    if "sections" in args.heads:
        print(f"== sections ({folder.name})", flush=True)
        failed |= run_script("evaluate_sections.py", "--data-dir", args.data_dir, "--pipeline", str(folder),
                             "--skip", "speed", "--threads", str(args.threads))
    if "categories" in args.heads:
        print(f"== categories ({args.model})", flush=True)
        failed |= run_script("evaluate_categories.py", "--data", args.data_dir, "--model", str(folder),
                             "--seed", str(args.seed), "--threads", str(args.threads))
        # The ERC head on real abstracts with the reviewers' panels (test half of scripts/data/erc_reviewed.csv).
        failed |= run_script("evaluate_categories.py", "--data", args.data_dir, "--reviewed", "test",
                             "--reviewed-models", str(folder), "--threads", str(args.threads))
    if "entities" in args.heads:
        import spacy
        import torch

        torch.set_num_threads(args.threads)
        nlp = spacy.load(folder)
        print(f"== entities ({args.model}): ClimateIE test papers as plain text, strict match", flush=True)
        scores = evaluate_entities(nlp, args.data_dir, args.seed)
        for label, (p, r, f, n) in scores.items():
            print(f"  {label:<20} P {p:.3f}  R {r:.3f}  F1 {f:.3f}  (gold {n})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
