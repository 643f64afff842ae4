"""Held-out scores of the ClimateIE entity head for every training and dev paper, saved for
choosing decoding settings (document-level propagation, a lexicon prior) by cross-fitting.

    python scripts/cv_entity_scores.py --seed 0 --out corpus/cv-scores-climateie-seed0.pkl

The training papers are split into ``--folds`` folds (shuffled with ``--seed``); a head with the
shipped ClimateIE settings is trained on the other folds for ``--epochs`` epochs (training seed
``--seed``) and scores the held-out papers; a head trained on all training papers scores the dev
papers. The corpus split itself is always the one of seed 0, so the test papers play no part.
Each scored paper is saved with the indices of the training papers its head learnt from (a
lexicon for it must come from those papers only). With ``--init-from W.npz`` every head starts
from the shared layers of a head pretrained on other corpora (scripts/pretrain_entity_head.py).
"""
import argparse
import pickle
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace


REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import evaluate_entities as ee  # noqa: E402
from spacy_scicls.corpora.entities import load_entity_corpus  # noqa: E402
from spacy_scicls.threads import set_cpu_threads  # noqa: E402


def head_args(seed: int, epochs: int, init_from=None) -> SimpleNamespace:
    """The settings of the shipped ClimateIE head (the defaults of ``evaluate_entities.py eval``
    with ``--positive-weight 10``)."""
    return SimpleNamespace(
        encoder=ee.DEFAULT_ENCODER, max_width=8, architecture="v2", span_width=128, hidden_width=128,
        layer_norm=True, prune_ratio=0.5, context_width=128, context_depth=4, context_window=1,
        input_dropout=0.2, features_width=64, positive_weight=10.0, learn_rate=0.005, l2=0.0,
        averages=True, lr_decay=1.0, dropout=0.1, batch_size=2, chunk=256, seed=seed, epochs=epochs,
        init_from=init_from,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="fold shuffle and training seed")
    parser.add_argument("--data-dir", default=None, help="default: $SCICLS_DATA_DIR")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3, help="the shipped head's best dev epoch")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--init-from", default=None,
                        help="every head starts from these shared layers (scripts/pretrain_entity_head.py)")
    parser.add_argument("--layers", default=None,
                        help="token vectors from the encoder's hidden states, e.g. mean3-6 or 6+mean1-3 "
                             "(scripts/encode_entity_layers.py); default: the last layer")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    set_cpu_threads(args.threads)
    data_dir = ee.data_dir_of(args)
    hargs = head_args(args.seed, args.epochs, args.init_from)
    nlp = ee.build_nlp(hargs.encoder, ["scicls"], hargs.max_width, hargs)  # registers doc._.trf_data
    splits, _ = load_entity_corpus("climateie", data_dir, nlp, seed=0)
    tag = ee.DEFAULT_ENCODER.replace("/", "--")
    vectors = {split: ee.encode(None, splits[split], REPO / "corpus" / "entity-features" / f"climateie-{split}-{tag}.npz")
               for split in ("train", "dev")}
    if args.layers:
        vectors = {split: ee.layer_vectors(args.layers, vectors[split], ee.layers_cache("climateie", split))
                   for split in vectors}
        print(f"token vectors: hidden states {args.layers}, width {vectors['train'][0].shape[1]}", flush=True)
    train_docs = splits["train"]
    order = list(range(len(train_docs)))
    random.Random(args.seed).shuffle(order)
    folds = [order[k :: args.folds] for k in range(args.folds)]
    jobs = [(k, [i for i in order if i not in set(held)], [("train", i) for i in held]) for k, held in enumerate(folds)]
    jobs.append((len(folds), order, [("dev", j) for j in range(len(splits["dev"]))]))
    out = []
    for group, rest, held in jobs:
        began = time.time()
        fold_nlp = ee.refit(hargs, "scicls", ee.make_examples([train_docs[i] for i in rest],
                                                             [vectors["train"][i] for i in rest], hargs.chunk), args.epochs)
        held_examples = ee.make_examples([splits[s][i] for s, i in held], [vectors[s][i] for s, i in held], 0)
        for (split, i), scored in zip(held, ee.score_docs(fold_nlp.get_pipe("scicls"), held_examples, group=group)):
            out.append({"split": split, "index": i, "group": group, "trained_on": sorted(rest), "scored": scored})
        print(f"group {group}: trained on {len(rest)} papers, scored {len(held)} ({time.time() - began:.0f}s)", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as f:
        pickle.dump({"seed": args.seed, "labels": list(fold_nlp.get_pipe("scicls").labels), "docs": out}, f)
    print(f"saved {len(out)} scored papers to {args.out}")


if __name__ == "__main__":
    main()
