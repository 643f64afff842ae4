"""Boundary errors of the ClimateIE entity head, counted on the cross-fitted held-out scores saved by
``scripts/cv_entity_scores.py`` (training and dev papers only; the test papers play no part).

    python scripts/cv_entity_boundaries.py corpus/cv-scores-climateie-seed0.pkl --threshold 0.70

Every scored paper is decoded as the component decodes (greedy, one threshold) and each gold entity
that is not predicted exactly is put in one class: right boundaries but another label, overlapped by a
prediction with other boundaries (then by how the boundaries differ: the prediction inside the gold
entity, around it, crossing it, or several predictions inside it), or missed altogether. For boundary
errors the tokens that one side has and the other lacks at each edge are tallied, and each edge
difference is put in a class (a determiner, punctuation, a parenthesised part, a coordination, other
words). Tokens are the corpus tokens, lower-cased; no tagger is used.
"""
import argparse
import pickle
import sys
from collections import Counter
from pathlib import Path

import numpy

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import evaluate_entities as ee  # noqa: E402
from spacy_scicls.corpora.entities import load_entity_corpus  # noqa: E402
from spacy_scicls.entities.decoding import greedy_decode  # noqa: E402

DETERMINERS = {"the", "a", "an", "this", "these", "that", "those", "its", "their", "our", "his", "her", "each",
               "such", "any", "all", "both", "some", "other"}
COORDINATION = {"and", "or", "&", "/", "nor", "as", "well"}


def token_spans(scored, entities):
    """(start, end, label) token spans of character-offset entities (those that align to tokens)."""
    by_start = {int(c): i for i, c in enumerate(scored.token_starts)}
    by_end = {int(c): i + 1 for i, c in enumerate(scored.token_ends)}
    return {(by_start[s], by_end[e], label) for s, e, label in entities if s in by_start and e in by_end}


def edge_class(tokens):
    """One class for the tokens one side has and the other lacks at one edge."""
    if not tokens:
        return None
    if tokens[0] in DETERMINERS or tokens[-1] in DETERMINERS:
        return "determiner"
    if any(t in {"(", ")", "[", "]"} for t in tokens):
        return "parentheses"
    if any(t in COORDINATION for t in tokens) or tokens[0] == "," or tokens[-1] == ",":
        return "coordination or comma"
    if all(not any(ch.isalnum() for ch in t) for t in tokens):
        return "punctuation"
    if len(tokens) == 1 and tokens[0].endswith("s") and len(tokens[0]) > 3:
        return "1 word ending in -s"
    return f"{min(len(tokens), 3)}{'+' if len(tokens) >= 3 else ''} word(s)"


def decode(scored, threshold):
    best = scored.probs[:, 1:].max(axis=1)
    rows = numpy.flatnonzero(best >= threshold)
    return [(s, e, c) for s, e, c, _ in greedy_decode(scored.candidates[rows], scored.probs[rows], threshold)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scores")
    parser.add_argument("--data-dir", default=None, help="default: $SCICLS_DATA_DIR")
    parser.add_argument("--threshold", type=float, default=0.7)
    parser.add_argument("--examples", type=int, default=0, help="print this many examples per class")
    args = parser.parse_args()
    nlp = ee.build_nlp(ee.DEFAULT_ENCODER, [], 8)
    splits, _ = load_entity_corpus("climateie", ee.data_dir_of(args), nlp, seed=0)
    with open(args.scores, "rb") as f:
        saved = pickle.load(f)
    labels = saved["labels"]
    classes, edges, extra, missing = Counter(), Counter(), Counter(), Counter()
    label_pairs = Counter()
    examples = {}
    n_gold = n_pred = n_fp_boundary = not_candidates = 0
    for item in saved["docs"]:
        scored = item["scored"]
        words = [t.lower_ for t in splits[item["split"]][item["index"]]]
        gold = token_spans(scored, scored.gold)
        pred = {(s, e, labels[c - 1]) for s, e, c in decode(scored, args.threshold)}
        candidate_set = set(map(tuple, scored.candidates.tolist()))
        n_gold += len(gold)
        n_pred += len(pred)
        n_fp_boundary += sum(1 for p in pred - gold if any(p[0] < g[1] and g[0] < p[1] and p[:2] != g[:2] for g in gold))
        for g in gold:
            if g in pred:
                classes["exact"] += 1
                continue
            same = [p for p in pred if p[:2] == g[:2]]
            over = [p for p in pred if p[0] < g[1] and g[0] < p[1] and p[:2] != g[:2]]
            text = " ".join(words[g[0]:g[1]])
            if (g[0], g[1]) not in candidate_set:
                not_candidates += 1
            if same:
                cls = "right boundaries, other label"
                label_pairs[(g[2], same[0][2])] += 1
            elif not over:
                cls = "missed (no overlapping prediction)"
            elif len(over) > 1:
                cls = "several predictions inside or across it"
            else:
                p = over[0]
                if g[0] <= p[0] and p[1] <= g[1]:
                    cls = "prediction shorter (inside the gold entity)"
                elif p[0] <= g[0] and g[1] <= p[1]:
                    cls = "prediction longer (contains the gold entity)"
                else:
                    cls = "crossing"
                left = words[min(g[0], p[0]):max(g[0], p[0])]
                right = words[min(g[1], p[1]):max(g[1], p[1])]
                for side, toks, pred_has in (("start", left, p[0] < g[0]), ("end", right, p[1] > g[1])):
                    if not toks:
                        continue
                    who = "prediction adds" if pred_has else "prediction lacks"
                    edges[(side, who, edge_class(toks))] += 1
                    (extra if pred_has else missing)[(side, " ".join(toks) if len(toks) <= 2 else f"<{len(toks)} words>")] += 1
                if p[2] != g[2]:
                    cls += ", other label too"
                text += f"   <- predicted: {' '.join(words[p[0]:p[1]])}"
            classes[cls] += 1
            examples.setdefault(cls, []).append(f"{g[2]}: {text}")
    print(f"== {args.scores} (seed {saved['seed']}), threshold {args.threshold:.2f}: {n_gold} gold, {n_pred} predicted "
          f"({n_fp_boundary} predictions overlap a gold entity with other boundaries)")
    print(f"  gold entities that are no candidate span (too wide, or across a line or sentence start): {not_candidates}")
    for cls, n in classes.most_common():
        print(f"  {cls:<58}{n:6d} ({n / n_gold:.1%})")
        for ex in examples.get(cls, [])[: args.examples]:
            print(f"      {ex}")
    print("  edge differences of single-overlap boundary errors (side, direction, class):")
    for key, n in sorted(edges.items(), key=lambda kv: -kv[1]):
        print(f"    {key[0]:<6}{key[1]:<18}{key[2]:<28}{n:6d}")
    print("  most frequent tokens the prediction adds:", ", ".join(f"{s}:'{t}' {n}" for (s, t), n in extra.most_common(15)))
    print("  most frequent tokens the prediction lacks:", ", ".join(f"{s}:'{t}' {n}" for (s, t), n in missing.most_common(15)))
    print("  right boundaries, other label (gold -> predicted):",
          ", ".join(f"{a} -> {b} {n}" for (a, b), n in label_pairs.most_common(8)))


if __name__ == "__main__":
    main()
