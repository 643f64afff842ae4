"""Choose the entity head's decoding aids (lexicon prior, document-level propagation) by
cross-fitting over the ClimateIE training and dev papers, from the held-out scores saved by
``scripts/cv_entity_scores.py``.

    python scripts/cv_entity_scores.py --seed 0 --out corpus/cv-scores-climateie-seed0.pkl
    python scripts/cv_entity_decoding.py corpus/cv-scores-climateie-seed0.pkl [more seeds ...]

Every scored paper is decoded with a lexicon built only from the training papers its head learnt
from (``spacy_scicls.entities.lexicon``), at every setting of the grid and every threshold;
strict entity-level P/R/F1 is pooled over the twelve papers. For each score file the script
prints, per setting, F1 at the threshold that is best for that setting, and the mean over the
score files. ``--plain`` decodes only as the component does by default (no lexicon, no
propagation), e.g. to compare score files of differently trained heads.
"""
import argparse
import itertools
import pickle
import sys
from collections import defaultdict
from pathlib import Path

import numpy

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import evaluate_entities as ee  # noqa: E402
from spacy_scicls.corpora.entities import load_entity_corpus  # noqa: E402
from spacy_scicls.entities.decoding import greedy_decode  # noqa: E402
from spacy_scicls.entities.lexicon import apply_lexicon, build_lexicon, propagate, token_lowers  # noqa: E402

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5)
MIN_COUNTS = (1, 2)
PROPAGATE = (None, 0.9, 0.8, 0.7)


def decode(scored, lowers, probs, threshold, min_score, labels, candidate_set):
    best = probs[:, 1:].max(axis=1)
    rows = numpy.flatnonzero(best >= threshold)
    chosen = greedy_decode(scored.candidates[rows], probs[rows], threshold)
    if min_score is not None:
        chosen = propagate(lowers, scored.candidates, chosen, min_score, candidate_set)
    return {(int(scored.token_starts[s]), int(scored.token_ends[e - 1]), labels[c - 1]) for s, e, c, _ in chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores", nargs="+")
    parser.add_argument("--data-dir", default=None, help="default: $SCICLS_DATA_DIR")
    parser.add_argument("--plain", action="store_true",
                        help="only the shipped decoding (no lexicon, no propagation), at every threshold")
    args = parser.parse_args()
    weights, min_counts, propagate_at = ((0.0,), (1,), (None,)) if args.plain else (WEIGHTS, MIN_COUNTS, PROPAGATE)
    nlp = ee.build_nlp(ee.DEFAULT_ENCODER, [], 8)
    splits, _ = load_entity_corpus("climateie", ee.data_dir_of(args), nlp, seed=0)
    lowers = {(s, i): token_lowers(d) for s in ("train", "dev") for i, d in enumerate(splits[s])}
    lexicons = {}
    results = defaultdict(list)  # setting -> [(f1, threshold, p, r) per score file]
    for path in args.scores:
        with open(path, "rb") as f:
            saved = pickle.load(f)
        labels = saved["labels"]
        tallies = defaultdict(lambda: [0, 0, 0])
        for item in saved["docs"]:
            key = tuple(item["trained_on"])
            if key not in lexicons:
                lexicons[key] = build_lexicon([splits["train"][i] for i in key])
            scored, words = item["scored"], lowers[(item["split"], item["index"])]
            candidate_set = set(map(tuple, scored.candidates.tolist()))
            for weight, min_count in itertools.product(weights, min_counts):
                if weight == 0 and min_count > 1:
                    continue
                probs = apply_lexicon(words, scored.candidates, scored.probs, lexicons[key], labels, weight, min_count)
                for min_score, threshold in itertools.product(propagate_at, ee.THRESHOLDS):
                    pred = decode(scored, words, probs, threshold, min_score, labels, candidate_set)
                    hits = len(pred & scored.gold)
                    t = tallies[(weight, min_count, min_score, threshold)]
                    t[0] += hits
                    t[1] += len(pred) - hits
                    t[2] += len(scored.gold) - hits
        best = {}
        for (weight, min_count, min_score, threshold), (tp, fp, fn) in tallies.items():
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            setting = (weight, min_count, min_score)
            if setting not in best or f > best[setting][0]:
                best[setting] = (f, threshold, p, r)
        print(f"== {path} (seed {saved['seed']}): cross-fitted over {len(saved['docs'])} papers, best threshold per setting")
        for setting, (f, threshold, p, r) in sorted(best.items(), key=lambda item: -item[1][0]):
            weight, min_count, min_score = setting
            print(f"  lexicon weight {weight:.1f} min count {min_count} propagate {min_score}: "
                  f"threshold {threshold:.2f} P {p:.3f} R {r:.3f} F1 {f:.3f}", flush=True)
            results[setting].append((f, threshold, p, r))
    if len(args.scores) > 1:
        print(f"== mean over {len(args.scores)} score files")
        for setting, runs in sorted(results.items(), key=lambda item: -numpy.mean([r[0] for r in item[1]])):
            weight, min_count, min_score = setting
            fs = " ".join(f"{r[0]:.3f}" for r in runs)
            print(f"  lexicon weight {weight:.1f} min count {min_count} propagate {min_score}: "
                  f"mean F1 {numpy.mean([r[0] for r in runs]):.3f} ({fs}; thresholds {' '.join(f'{r[1]:.2f}' for r in runs)})")


if __name__ == "__main__":
    main()
