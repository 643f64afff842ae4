"""Assemble the default pipeline: one shared frozen transformer and every trained head.

    python scripts/assemble_default.py \\
        --sections training/sections-pipeline \\
        --categories training/categories-pipeline \\
        --entities training/entities-climateie --entities-component scicls \\
        --output training/default-pipeline

Each head comes from the pipeline its own training script saved (all of them
on the same frozen encoder; see ``spacy_scicls.assembly``). The transformer is
saved without its weights (``scicls_frozen_transformer``): they come from the
encoder name when the pipeline loads, so the output holds only the heads.
A missing head pipeline stops the script with a message naming the script
that makes it; ``--heads`` assembles a subset on purpose.

After saving, the script loads the saved pipeline and checks, on the bundled
example papers (or ``--texts``), that every head gives what it gave in its
source pipeline (largest score difference printed per head; the script fails
above ``--tolerance``).
"""
import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CATEGORY_HEADS = ("erc", "arxiv", "hrcs_rac", "hrcs_hc")


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def read_texts(paths) -> list:
    texts = [Path(p).read_text(encoding="utf8") for p in paths]
    if not texts:
        raise SystemExit("no texts to check the assembled pipeline on (give --texts)")
    return texts


def main(argv=None) -> int:
    import torch

    from spacy_scicls.assembly import HEAD_ORDER, AssemblyError, assemble_pipeline, compare_with_sources

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", type=Path, default=REPO / "training" / "sections-pipeline")
    parser.add_argument("--categories", type=Path, default=REPO / "training" / "categories-pipeline")
    parser.add_argument("--erc", type=Path, default=None,
                        help="the ERC head's pipeline, when it was trained apart from the other category heads "
                        "(default: --categories)")
    parser.add_argument("--entities", type=Path, default=REPO / "training" / "entities-climateie",
                        help="saved by: scripts/evaluate_entities.py eval --corpus climateie --systems scicls --save")
    parser.add_argument("--entities-component", default="scicls", help="the entity head's name in that pipeline")
    parser.add_argument("--encoder", default=None,
                        help="the encoder name the heads must have been trained on (default: whatever they share)")
    parser.add_argument("--heads", default=",".join(HEAD_ORDER), help="comma-separated heads to assemble")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "full_pipeline.cfg",
                        help="the config whose [components.transformer] settings the shared transformer takes")
    parser.add_argument("--output", type=Path, default=REPO / "training" / "default-pipeline")
    parser.add_argument("--name", default="scicls_default")
    parser.add_argument("--version", default=None, help="pipeline version (default: the package's)")
    parser.add_argument("--model-card", type=Path, default=REPO / "MODEL_CARD.md",
                        help="saved as the pipeline's README.md, which `spacy package` ships as the package's README")
    parser.add_argument("--texts", nargs="*", type=Path, default=sorted((REPO / "examples" / "papers").glob("*.txt")))
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from spacy_scicls import __version__

    folders = {"sections": args.sections, "entities": args.entities}
    folders.update({head: args.categories for head in CATEGORY_HEADS})
    if args.erc is not None:
        folders["erc"] = args.erc
    heads = [h.strip() for h in args.heads.split(",") if h.strip()]
    unknown = [h for h in heads if h not in folders]
    if unknown:
        parser.error(f"unknown heads {unknown}; choose among {list(folders)}")
    sources = {head: folders[head] for head in heads}
    if "entities" in sources:
        sources["entities"] = (args.entities, args.entities_component)
    meta = {
        "name": args.name,
        "version": args.version or __version__,
        "description": "spacy_scicls default pipeline: IMRaD sections, ERC/arXiv/HRCS categories and "
        "entities on one shared frozen transformer (encoder weights not stored; they load from the encoder name)",
        "license": "MIT",
    }
    try:
        nlp = assemble_pipeline(sources, config=args.config, encoder=args.encoder, meta=meta)
    except AssemblyError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    # What `spacy package` lists as the package's requirements: the components,
    # and the encoder's weights where they come from a Python package.
    from spacy_scicls.encoders import PACKAGED_ENCODERS

    requirements = [f"spacy-scicls>={__version__}"]
    encoder_name = nlp.config["components"]["transformer"]["model"]["name"]
    if encoder_name in PACKAGED_ENCODERS:
        requirements.append(PACKAGED_ENCODERS[encoder_name][0].replace("_", "-"))
    nlp.meta["requirements"] = requirements
    args.output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(args.output)
    if args.model_card and args.model_card.exists():
        shutil.copyfile(args.model_card, args.output / "README.md")
    print(f"saved {args.output}: components {nlp.pipe_names}, {folder_bytes(args.output) / 1e6:.1f} MB")
    for name in nlp.pipe_names:
        print(f"  {name}: {folder_bytes(args.output / name) / 1e6:.2f} MB")

    import spacy

    saved = spacy.load(args.output)
    differences = compare_with_sources(saved, sources, read_texts(args.texts))
    failed = False
    for head, diff in differences.items():
        ok = diff <= args.tolerance
        failed |= not ok
        print(f"  {head}: largest score difference to its source pipeline {diff:.2e}{'' if ok else '  FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
