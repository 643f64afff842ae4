"""Fast prediction for the shared transformer: windows sorted by length,
run in passes of bounded size, under ``torch.inference_mode``.

spacy-transformers runs every window of a batch of docs in one pass, padded
to the longest window of the batch. Windows of the same number of spaCy
tokens differ a lot in wordpieces (formulas, names and numbers split into many
pieces), so a third to a half of what the encoder computes can be padding.
Here prediction sorts the windows by wordpiece length and runs them in passes
of at most ``max_wordpieces`` padded wordpieces, each pass padded only to its
own longest window; the outputs are put back in their places in one tensor of
the usual shape, so everything downstream (alignment, listeners, heads) sees
exactly what spacy-transformers would give. Training is unchanged.

After each pass the C allocator's free pages go back to the system
(``malloc_trim``, on glibc): a pass's intermediate arrays are freed, but
glibc keeps arrays of up to 32 MB in its heap once it has seen such sizes
freed, and the next pass, whose windows are longer, asks for other sizes, so
the heap grows pass after pass with memory that is free but still resident.
On a 100-page paper (413 windows) that was 300 MB above the output itself;
trimming after each pass keeps it to what one pass leaves (docs/speed.md).
"""
import ctypes
import ctypes.util
import functools
from typing import Any, Callable, List, Optional, Tuple

import numpy
import torch
from spacy.tokens import Doc
from spacy_transformers.align import get_alignment, get_alignment_via_offset_mapping
from spacy_transformers.data_classes import FullTransformerBatch, WordpieceBatch
from spacy_transformers.layers.transformer_model import forward as spacy_transformers_forward
from spacy_transformers.layers.transformer_model import huggingface_tokenize
from spacy_transformers.truncate import truncate_oversize_splits
from thinc.api import Model, get_array_module
from transformers.utils import ModelOutput

ATTR = "predict_max_wordpieces"


def use_sorted_prediction(model: Model, max_wordpieces: int) -> Model:
    """Make ``model`` (a spacy-transformers ``TransformerModel``) predict in
    length-sorted passes of at most ``max_wordpieces`` padded wordpieces
    (a pass holds at least one window); ``0`` keeps spacy-transformers'
    single padded pass."""
    if max_wordpieces < 0:
        raise ValueError(f"max_wordpieces must be 0 (one pass) or positive, got {max_wordpieces}")
    model.attrs[ATTR] = int(max_wordpieces)
    model._func = sorted_prediction_forward
    return model


def sorted_prediction_forward(model: Model, docs: List[Doc], is_train: bool) -> Tuple[FullTransformerBatch, Callable]:
    max_wordpieces = model.attrs.get(ATTR, 0)
    if is_train or not max_wordpieces:
        return spacy_transformers_forward(model, docs, is_train)
    tokenizer = model.tokenizer
    nested_spans = model.attrs["get_spans"](docs)
    flat_spans = [span for doc_spans in nested_spans for span in doc_spans]
    batch_encoding = huggingface_tokenize(tokenizer, [span.text for span in flat_spans])
    wordpieces = WordpieceBatch.from_batch_encoding(batch_encoding)
    if "offset_mapping" in batch_encoding:
        align = get_alignment_via_offset_mapping(flat_spans, batch_encoding["offset_mapping"])
    else:
        align = get_alignment(flat_spans, wordpieces.strings, tokenizer.all_special_tokens)
    wordpieces, align = truncate_oversize_splits(wordpieces, align, tokenizer.model_max_length)
    model_output = predict_in_passes(model.layers[0], wordpieces, max_wordpieces)
    output = FullTransformerBatch(spans=nested_spans, wordpieces=wordpieces, model_output=model_output, align=align)

    def backprop(d_output: FullTransformerBatch) -> List[Doc]:
        raise ValueError("the transformer's prediction output cannot be backpropagated")

    return output, backprop


def length_sorted_passes(lengths: List[int], max_wordpieces: int) -> List[List[int]]:
    """Window indices grouped into passes: shortest first, each pass at most
    ``max_wordpieces`` padded wordpieces (its size times its longest window),
    and never empty."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    passes: List[List[int]] = []
    current: List[int] = []
    for i in order:
        # ``lengths[i]`` is the longest of the pass so far, the order being ascending.
        if current and (len(current) + 1) * max(lengths[i], 1) > max_wordpieces:
            passes.append(current)
            current = []
        current.append(i)
    if current:
        passes.append(current)
    return passes


def predict_in_passes(transformer: Model, wordpieces: WordpieceBatch, max_wordpieces: int) -> ModelOutput:
    """The transformer's output for ``wordpieces``, computed pass by pass."""
    lengths = [int(n) for n in wordpieces.lengths]
    n_windows, padded_length = wordpieces.input_ids.shape[:2]
    outputs: dict = {}
    output_type = ModelOutput
    for indices in length_sorted_passes(lengths, max_wordpieces):
        width = max(max(lengths[i] for i in indices), 1)
        index = numpy.asarray(indices)
        # spacy-transformers keeps the wordpiece arrays on the CPU (numpy) on
        # every device; they go to the encoder's device in the wrapper.
        xp_index = get_array_module(wordpieces.input_ids).asarray(index)
        chunk = WordpieceBatch(
            strings=[wordpieces.strings[i] for i in indices],
            input_ids=wordpieces.input_ids[xp_index, :width],
            attention_mask=wordpieces.attention_mask[xp_index, :width],
            lengths=[lengths[i] for i in indices],
            token_type_ids=(
                wordpieces.token_type_ids[xp_index, :width] if wordpieces.token_type_ids is not None else None
            ),
        )
        with torch.inference_mode():
            chunk_output = transformer.predict(chunk)
        output_type = type(chunk_output)
        # Outside inference mode, so that the assembled outputs are ordinary tensors.
        with torch.no_grad():
            for key, value in chunk_output.items():
                _place(outputs, key, value, index, n_windows, padded_length, width)
        del chunk_output
        return_free_memory()
    return output_type(**outputs)


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def return_free_memory() -> None:
    """Give the C allocator's free pages back to the system, where it can (see the module docstring)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _place(outputs: dict, key: str, value: Any, index: numpy.ndarray, n: int, length: int, width: int) -> None:
    if isinstance(value, torch.Tensor):
        if key not in outputs:
            outputs[key] = value.new_zeros(_full_shape(value, n, length, width))
        target = outputs[key]
        rows = torch.as_tensor(index, device=value.device)
        if value.dim() == 4:  # attentions: (windows, heads, width, width)
            target[rows, :, :width, :width] = value
        elif value.dim() == 3:  # hidden states: (windows, width, hidden)
            target[rows, :width] = value
        else:  # pooled: (windows, hidden)
            target[rows] = value
    elif isinstance(value, tuple) and all(isinstance(v, torch.Tensor) for v in value):
        # per-layer hidden states or attentions
        if key not in outputs:
            outputs[key] = tuple(v.new_zeros(_full_shape(v, n, length, width)) for v in value)
        for i, v in enumerate(value):
            layer = {key: outputs[key][i]}
            _place(layer, key, v, index, n, length, width)


def _full_shape(value: torch.Tensor, n: int, length: int, width: int) -> tuple:
    shape = list(value.shape)
    shape[0] = n
    if value.dim() == 4:
        shape[2] = shape[3] = length
    elif value.dim() == 3:
        shape[1] = length
    return tuple(shape)
