"""What the category scripts share: data location, splits, pipeline and feature cache."""
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import spacy
from spacy.training import Example

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from spacy_scicls.corpora import CategoryRecord, read_category_corpora, records_to_docs, split_records  # noqa: E402
from spacy_scicls.training.frozen import TokenVectorCache, encode_token_vectors  # noqa: E402

CONFIG = REPO / "configs" / "categories.cfg"
HEADS = ("erc", "arxiv", "hrcs_rac", "hrcs_hc")
CACHE_TOKENS = 512


def data_dir(arg: Optional[str]) -> Path:
    value = arg or os.environ.get("SCICLS_DATA_DIR")
    if not value:
        sys.exit("Give the data folder (--data DIR) or set SCICLS_DATA_DIR; it must hold cats/<corpus>/")
    return Path(value)


def load_splits(data: Path, seed: int) -> Dict[str, List[CategoryRecord]]:
    return split_records(read_category_corpora(data, silver_erc=True), seed=seed)


def build_pipeline(train_records: List[CategoryRecord], config_path: Path = CONFIG, overrides: Optional[Dict] = None):
    config = spacy.util.load_config(config_path, overrides=overrides or {})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    docs = records_to_docs(nlp, train_records)
    examples = [Example(nlp.make_doc(doc.text), doc) for doc in docs]
    nlp.initialize(lambda: examples)
    return nlp


def feature_cache_path(nlp, seed: int) -> Path:
    """Where the token vectors of ``nlp``'s transformer are cached: one file per
    encoder, span window and stride (no suffix for the default encoder and windows)."""
    from spacy_scicls.encoders import DEFAULT_ENCODER

    transformer = nlp.get_pipe("transformer")
    get_spans = transformer.model.attrs.get("get_spans")
    keywords = getattr(get_spans, "keywords", None) or {}
    window, stride = keywords.get("window", 128), keywords.get("stride", 96)
    suffix = "" if (window, stride) == (128, 96) else f"-w{window}s{stride}"
    encoder = nlp.config["components"]["transformer"]["model"]["name"]
    if encoder != DEFAULT_ENCODER:
        suffix += "-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in str(encoder))
    return REPO / "training" / "cats" / f"features-seed{seed}{suffix}.npz"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def feature_cache(nlp, records: List[CategoryRecord], path: Path) -> TokenVectorCache:
    """Token vectors of every record, computed once and kept in ``path``."""
    if path.exists():
        try:
            cache = TokenVectorCache.load(path)
        except ValueError as err:  # written by an older version (pickled ids): made again
            log(str(err))
            cache = None
        if cache is not None and all(r.id in cache for r in records):
            return cache
    log(f"encoding {len(records)} docs once with the frozen encoder (cached in {path})")
    docs = [nlp.make_doc(r.text) for r in records]
    cache = encode_token_vectors(
        nlp, docs, [r.id for r in records], head="arxiv", max_tokens=CACHE_TOKENS,
        progress=lambda n: log(f"  encoded {n}/{len(docs)}") if n % 320 == 0 or n == len(docs) else None,
    )
    cache.save(path)
    return cache


def lexical_rows_for(pipe, nlp, records: List[CategoryRecord]):
    """The tf-idf rows of a ``DocClassifier.v5`` head's lexical part for ``records``
    (from their tokens: no encoder pass); None for a head without one."""
    from spacy_scicls.training.frozen import lexical_rows

    if not pipe.model.has_ref("lexical_features"):
        return None
    return lexical_rows(pipe, [nlp.make_doc(r.text) for r in records])


def f1_at_best_threshold(probs, truths) -> float:
    """Micro-F1 at the best single threshold (0.05 .. 0.95): the lexical part's early-stopping
    score, as its probabilities stay low for rare labels long after its ranking is good."""
    import numpy

    from spacy_scicls.calibration import micro_macro_f1

    return max(micro_macro_f1(probs >= t, truths)["micro_f"] for t in numpy.arange(0.05, 0.96, 0.05))


def truths_for(component, records: List[CategoryRecord]):
    """0/1 matrix (records x the head's labels) of the records that carry the head's taxonomy."""
    import numpy

    name = component.taxonomy.name
    index = {code: i for i, code in enumerate(component.labels)}
    kept = [r for r in records if r.labels.get(name)]
    truths = numpy.zeros((len(kept), len(index)), dtype="float32")
    for row, record in enumerate(kept):
        for code in record.labels[name]:
            if code in index:
                truths[row, index[code]] = 1.0
    return kept, truths


def sentence_embedding_cache(records: List[CategoryRecord], path: Path, threads: int = 1):
    """Sentence embeddings (the issue's baseline input) of every record, computed once and kept in ``path``.

    Returns ``{record id: row}``. The rows are the encoder run directly (with
    transformers) on each record's title and abstract as one sequence, masked
    mean pooling, L2-normalised (``spacy_scicls.training.sentence_embeddings``).
    """
    import numpy
    import torch

    if path.exists():
        try:  # never unpickled; a cache of an older version (pickled ids) is made again
            data = numpy.load(path, allow_pickle=False)
            cached = {str(i): row for i, row in zip(data["ids"], data["vectors"])}
        except ValueError:
            cached = {}
        if cached and all(r.id in cached for r in records):
            return cached
    from spacy_scicls.training.sentence_embeddings import sentence_embeddings

    torch.set_num_threads(threads)
    log(f"sentence embeddings of {len(records)} docs (cached in {path})")
    vectors = sentence_embeddings(
        [r.text for r in records],
        progress=lambda n: log(f"  embedded {n}/{len(records)}") if n % 640 == 0 or n == len(records) else None,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    numpy.savez(path, vectors=vectors, ids=numpy.asarray([r.id for r in records], dtype=str))
    return {r.id: row for r, row in zip(records, vectors)}


def out_of_field(records: List[CategoryRecord], in_field: List[CategoryRecord], ratio: float, seed: int):
    """Records of the other corpora (those without a label of the head's
    taxonomy: NIHR awards for the arXiv head, arXiv papers for the HRCS heads),
    at most ``ratio`` times as many as ``in_field``, picked with ``seed``; with
    all-zero truths they teach a head to give documents outside its field no label."""
    import numpy

    kept = {r.id for r in in_field}
    others = [r for r in records if r.id not in kept]
    limit = int(round(ratio * len(in_field)))
    if len(others) > limit:
        rng = numpy.random.default_rng(seed)
        others = [others[i] for i in sorted(rng.choice(len(others), size=limit, replace=False))]
    return others


def with_out_of_field(records: List[CategoryRecord], in_field: List[CategoryRecord], truths, ratio: float, seed: int):
    """``in_field`` and its ``truths`` followed by :func:`out_of_field` records with all-zero truths."""
    import numpy

    extra = out_of_field(records, in_field, ratio, seed)
    zeros = numpy.zeros((len(extra), truths.shape[1]), dtype=truths.dtype)
    return in_field + extra, numpy.vstack([truths, zeros]), len(extra)
