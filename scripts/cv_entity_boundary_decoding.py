"""Boundary-side decoding changes for the ClimateIE entity head, compared by cross-fitting on the
held-out scores saved by ``scripts/cv_entity_scores.py`` (training and dev papers only).

    python scripts/cv_entity_boundary_decoding.py corpus/cv-scores-climateie-seed0.pkl corpus/cv-scores-climateie-seed1.pkl

Settings (each against the shipped greedy decoding, every threshold of 0.30-0.90, pooled strict F1 at
each setting's best threshold, as ``cv_entity_decoding.py`` compares):

- ``length b``: greedy decoding ranks candidates by ``score + b * (width - 1)`` (the threshold still
  applies to the score itself): b > 0 prefers the longer of overlapping candidates with close scores,
  b < 0 the shorter.
- ``edge g a``: a start/end-token prior learnt from the gold entities of the papers the head trained on.
  For a token w, ``start(w) = (gold entities starting with w + a * m_s) / (gold entities holding w + a)``,
  ``m_s`` the mean of that rate over all gold entity tokens (so unseen tokens get ``m_s``); ``end(w)``
  likewise. A candidate's entity probabilities are multiplied by
  ``(start(first) / m_s * end(last) / m_e) ** g`` (capped at 1).
- ``merge m``: after greedy decoding, two chosen entities of the same label that touch are replaced by
  the candidate spanning both when its best entity probability is at least m (its label then applies).
- ``never n``: candidates whose first token is held by at least n training gold entities but starts none
  of them are dropped, and likewise at the end.
"""
import argparse
import itertools
import pickle
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import evaluate_entities as ee  # noqa: E402
from cv_entity_boundaries import token_spans  # noqa: E402
from spacy_scicls.corpora.entities import load_entity_corpus  # noqa: E402

LENGTH = (-0.05, -0.02, 0.02, 0.05, 0.1, 0.2)
EDGE = tuple(itertools.product((0.25, 0.5, 1.0), (1.0, 5.0)))
NEVER = (2, 5, 10)
MERGE = (0.3, 0.5)


def rank_decode(candidates, probs, threshold, bonus):
    """Greedy non-overlapping decoding ranked by score + bonus * (width - 1)."""
    if len(candidates) == 0:
        return []
    labels = probs[:, 1:].argmax(axis=1) + 1
    scores = probs[numpy.arange(len(probs)), labels]
    keep = numpy.flatnonzero(scores >= threshold)
    widths = candidates[keep, 1] - candidates[keep, 0]
    order = keep[numpy.argsort(-(scores[keep] + bonus * (widths - 1)), kind="stable")]
    taken = bytearray(int(candidates[:, 1].max()))
    chosen = []
    for start, end, label in zip(candidates[order, 0].tolist(), candidates[order, 1].tolist(), labels[order].tolist()):
        if not any(taken[start:end]):
            taken[start:end] = b"\x01" * (end - start)
            chosen.append((start, end, label))
    return chosen


def merge_touching(chosen, candidates, probs, min_score):
    """Replace touching same-label entities by the candidate covering both, where it scores min_score."""
    index = {(s, e): i for i, (s, e) in enumerate(candidates.tolist())}
    chosen = sorted(chosen)
    out = []
    for span in chosen:
        if out and out[-1][1] == span[0] and out[-1][2] == span[2]:
            row = index.get((out[-1][0], span[1]))
            if row is not None and probs[row, 1:].max() >= min_score:
                out[-1] = (out[-1][0], span[1], int(probs[row, 1:].argmax()) + 1)
                continue
        out.append(span)
    return out


def edge_counts(docs):
    """Per lower-cased token: gold entities starting with it, ending with it, holding it."""
    starts, ends, holds = Counter(), Counter(), Counter()
    for words, gold in docs:
        for s, e, _ in gold:
            starts[words[s]] += 1
            ends[words[e - 1]] += 1
            for w in set(words[s:e]):
                holds[w] += 1
    return starts, ends, holds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores", nargs="+")
    parser.add_argument("--data-dir", default=None, help="default: $SCICLS_DATA_DIR")
    args = parser.parse_args()
    results = defaultdict(list)
    splits = None
    for path in args.scores:
        with open(path, "rb") as f:
            saved = pickle.load(f)
        labels = saved["labels"]
        items = saved["docs"]
        if splits is None:
            nlp = ee.build_nlp(ee.DEFAULT_ENCODER, [], 8)
            splits, _ = load_entity_corpus("climateie", ee.data_dir_of(args), nlp, seed=0)
        words = {(it["split"], it["index"]): [t.lower_ for t in splits[it["split"]][it["index"]]] for it in items}
        gold_tokens = {(it["split"], it["index"]): token_spans(it["scored"], it["scored"].gold) for it in items}
        counts = {}
        tallies = defaultdict(lambda: [0, 0, 0])
        for item in items:
            key = tuple(item["trained_on"])
            if key not in counts:
                counts[key] = edge_counts([(words[("train", i)], gold_tokens[("train", i)]) for i in key])
            starts, ends, holds = counts[key]
            total = sum(holds.values())
            m_s, m_e = sum(starts.values()) / total, sum(ends.values()) / total
            scored, doc_words = item["scored"], words[(item["split"], item["index"])]
            first = [doc_words[s] for s in scored.candidates[:, 0].tolist()]
            last = [doc_words[e - 1] for e in scored.candidates[:, 1].tolist()]
            settings = [("greedy", 0.0, scored.probs)] + [(f"merge {m:.1f}", m, scored.probs) for m in MERGE]
            settings += [(f"length {b:+.2f}", b, scored.probs) for b in LENGTH]
            for g, a in EDGE:
                fs = numpy.asarray([(starts[w] + a * m_s) / (holds[w] + a) / m_s for w in first])
                fe = numpy.asarray([(ends[w] + a * m_e) / (holds[w] + a) / m_e for w in last])
                probs = scored.probs.copy()
                probs[:, 1:] = numpy.minimum(probs[:, 1:] * ((fs * fe) ** g)[:, None], 1.0)
                settings.append((f"edge g {g:.2f} a {a:.0f}", 0.0, probs))
            for n in NEVER:
                drop = numpy.asarray([holds[w] >= n and starts[w] == 0 for w in first]) | numpy.asarray(
                    [holds[w] >= n and ends[w] == 0 for w in last])
                probs = scored.probs.copy()
                probs[drop, 1:] = 0.0
                settings.append((f"never {n}", 0.0, probs))
            for name, bonus, probs in settings:
                best = probs[:, 1:].max(axis=1)
                for threshold in ee.THRESHOLDS:
                    rows = numpy.flatnonzero(best >= threshold)
                    if name.startswith("merge"):
                        chosen = merge_touching(rank_decode(scored.candidates[rows], probs[rows], threshold, 0.0),
                                                scored.candidates, probs, bonus)
                    else:
                        chosen = rank_decode(scored.candidates[rows], probs[rows], threshold, bonus)
                    pred = {(int(scored.token_starts[s]), int(scored.token_ends[e - 1]), labels[c - 1]) for s, e, c in chosen}
                    hits = len(pred & scored.gold)
                    t = tallies[(name, threshold)]
                    t[0] += hits
                    t[1] += len(pred) - hits
                    t[2] += len(scored.gold) - hits
        best = {}
        for (name, threshold), (tp, fp, fn) in tallies.items():
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            if name not in best or f > best[name][0]:
                best[name] = (f, threshold, p, r)
        print(f"== {path} (seed {saved['seed']}): cross-fitted over {len(items)} papers, best threshold per setting")
        for name, (f, threshold, p, r) in sorted(best.items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:<22} threshold {threshold:.2f} P {p:.3f} R {r:.3f} F1 {f:.3f}", flush=True)
            results[name].append((f, threshold))
    if len(args.scores) > 1:
        print(f"== mean over {len(args.scores)} score files")
        for name, runs in sorted(results.items(), key=lambda kv: -numpy.mean([r[0] for r in kv[1]])):
            print(f"  {name:<22} mean F1 {numpy.mean([r[0] for r in runs]):.3f} "
                  f"({' '.join(f'{r[0]:.3f}' for r in runs)}; thresholds {' '.join(f'{r[1]:.2f}' for r in runs)})")


if __name__ == "__main__":
    main()
