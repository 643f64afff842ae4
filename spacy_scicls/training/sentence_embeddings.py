"""Sentence embeddings of whole texts: the reference baseline for the category heads.

This is how sentence-transformers embeds a text with all-MiniLM-L6-v2: the
encoder reads the text as ONE sequence (cut to the model's maximum length,
256 wordpieces for that model), its last hidden states are averaged over the
wordpieces the attention mask keeps, and the mean is L2-normalised.

The category heads do not use this (it would be a second encoder pass at
prediction time); it is the input of the logistic-regression baseline that
``scripts/evaluate_categories.py`` reports beside the heads.
"""
import json
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy

from ..encoders import resolve_encoder_name

DEFAULT_MAX_LENGTH = 256


def model_max_length(model_dir: Union[str, Path], default: int = DEFAULT_MAX_LENGTH) -> int:
    """``max_seq_length`` of a sentence-transformers folder, else ``default``."""
    config = Path(model_dir) / "sentence_bert_config.json"
    if config.exists():
        try:
            return int(json.loads(config.read_text(encoding="utf8"))["max_seq_length"])
        except (ValueError, KeyError, TypeError):
            pass
    return default


def sentence_embeddings(
    texts: Sequence[str],
    encoder: Union[str, Path] = "sentence-transformers/all-MiniLM-L6-v2",
    *,
    max_length: Optional[int] = None,
    batch_size: int = 32,
    normalize: bool = True,
    progress: Optional[Callable[[int], None]] = None,
) -> numpy.ndarray:
    """One row per text: masked mean of the encoder's last hidden states, L2-normalised.

    ``encoder`` is a hub name (resolved to a locally packaged copy when there
    is one) or a model folder. ``max_length`` defaults to the folder's
    ``sentence_bert_config.json`` (else 256), never more than the model's
    position limit. An empty text is embedded like sentence-transformers does
    (its [CLS] and [SEP] alone), so every text gets a finite row.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    name = resolve_encoder_name(encoder)
    tokenizer = AutoTokenizer.from_pretrained(name)
    model = AutoModel.from_pretrained(name)
    model.eval()
    if max_length is None:
        max_length = model_max_length(name) if Path(name).is_dir() else DEFAULT_MAX_LENGTH
    limit = getattr(model.config, "max_position_embeddings", None)
    if limit:
        max_length = min(max_length, int(limit))
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}")
    width = model.config.hidden_size
    out = numpy.zeros((len(texts), width), dtype="float32")
    # Longest texts together: less padding per batch.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i] or ""))
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = [str(texts[i] or "") for i in idx]
            enc = tokenizer(batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            counts = mask.sum(dim=1).clamp(min=1e-9)
            rows = summed / counts
            if normalize:
                rows = torch.nn.functional.normalize(rows, p=2, dim=1)
            out[idx] = rows.cpu().numpy()
            if progress is not None:
                progress(min(start + batch_size, len(order)))
    return out
