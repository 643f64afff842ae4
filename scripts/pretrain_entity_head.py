"""Pretrain the entity head's shared layers on other corpora, for a head of a small corpus to
start from (``--init-from`` of ``evaluate_entities.py eval`` and ``cv_entity_scores.py``).

    python scripts/pretrain_entity_head.py --corpus scierc biodivner --epochs 5 \\
        --out training/entity-transfer/scierc-biodivner.npz

One head with the shipped ClimateIE settings (those of ``cv_entity_scores.py``) is trained on
the training and dev docs of the given corpora together (their cached token vectors under
``corpus/entity-features/``), their label sets joined into one, for ``--epochs`` epochs (the
optimizer's moving averages kept, as ``refit`` keeps them); its layers but the output layer are
saved (``spacy_scicls.entities.transfer``). The test docs play no part, nor does ClimateIE.
"""
import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import evaluate_entities as ee  # noqa: E402
from cv_entity_scores import head_args  # noqa: E402
from spacy_scicls.corpora.entities import load_entity_corpus  # noqa: E402
from spacy_scicls.entities.transfer import save_shared_weights  # noqa: E402
from spacy_scicls.threads import set_cpu_threads  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="+", default=["scierc", "biodivner"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data-dir", default=None, help="default: $SCICLS_DATA_DIR")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    set_cpu_threads(args.threads)
    data_dir = args.data_dir or os.environ.get("SCICLS_DATA_DIR")
    if not data_dir:
        sys.exit("give --data-dir or set SCICLS_DATA_DIR")
    hargs = head_args(args.seed, args.epochs)
    nlp = ee.build_nlp(hargs.encoder, ["scicls"], hargs.max_width, hargs)  # registers doc._.trf_data
    tag = ee.DEFAULT_ENCODER.replace("/", "--")
    train = []
    for corpus in args.corpus:
        splits, _ = load_entity_corpus(corpus, data_dir, nlp, seed=0)
        for split in ("train", "dev"):
            cache = REPO / "corpus" / "entity-features" / f"{corpus}-{split}-{tag}.npz"
            if not cache.exists():
                sys.exit(f"no cached token vectors {cache}: run evaluate_entities.py eval --encode-only first")
            vectors = ee.encode(None, splits[split], cache)
            train.extend(ee.make_examples(splits[split], vectors, hargs.chunk))
        print(f"{corpus}: {len(splits['train'])} + {len(splits['dev'])} docs", flush=True)
    began = time.time()
    head_nlp = ee.refit(hargs, "scicls", train, args.epochs)
    head = head_nlp.get_pipe("scicls")
    save_shared_weights(head.model, args.out)
    print(f"pretrained on {len(train)} pieces, labels {list(head.labels)}, {args.epochs} epochs "
          f"({time.time() - began:.0f}s); shared layers saved to {args.out}")


if __name__ == "__main__":
    main()
