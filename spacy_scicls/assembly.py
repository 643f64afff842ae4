"""One pipeline from heads trained in separate pipelines on the same frozen encoder.

Each head is trained by its own script (``scripts/train_sections.py``,
``scripts/train_categories.py``, the entities script) into a pipeline of its
own: the shared transformer plus that head. As every script keeps the encoder
frozen, the transformers of those pipelines hold identical weights, and the
heads can be put side by side on ONE transformer: ``assemble_pipeline``

1. loads each source pipeline and checks that it has the head and a
   transformer whose encoder (name, windows, tokenizer settings and weights)
   is the same in all of them;
2. builds the shared transformer as ``scicls_frozen_transformer`` from the
   project config (``configs/full_pipeline.cfg``) with that encoder, so the
   saved pipeline holds no encoder weights (see
   ``spacy_scicls.pipeline.frozen_transformer``), and checks that the encoder
   name loads the very weights the heads were trained on;
3. adds each head with ``nlp.add_pipe(name, source=...)``; spaCy links its
   listeners to the one transformer.

``compare_with_sources`` then runs the assembled pipeline and each source on
the same texts and reports how far each head's output moved (it should not).
"""
import warnings
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import spacy
from spacy.language import Language

from .pipeline.frozen_transformer import weights_fingerprint

HEAD_ORDER: Tuple[str, ...] = ("sections", "erc", "arxiv", "hrcs_rac", "hrcs_hc", "entities")
TRANSFORMER = "transformer"
CONFIG = Path(__file__).resolve().parents[1] / "configs" / "full_pipeline.cfg"

# What makes each head's source pipeline, for the error when it is missing.
HEAD_SCRIPTS: Dict[str, str] = {
    "sections": "scripts/train_sections.py",
    "erc": "scripts/train_categories.py",
    "arxiv": "scripts/train_categories.py",
    "hrcs_rac": "scripts/train_categories.py",
    "hrcs_hc": "scripts/train_categories.py",
    "entities": "scripts/evaluate_entities.py eval --systems scicls --save",
}

# A head's source: its pipeline folder, or (folder, name of the head in that
# pipeline) when the training script named it otherwise.
Source = Union[str, Path, Tuple[Union[str, Path], str]]


def _split(head: str, source) -> Tuple[object, str]:
    if isinstance(source, tuple):
        folder, component = source
        return folder, component
    return source, head


# Settings of the transformer's model that change what the heads read.
ENCODER_KEYS = ("name", "get_spans", "tokenizer_config", "transformer_config")


class AssemblyError(ValueError):
    """The heads cannot be put on one transformer (missing, or trained on different encoders)."""


def _encoder_settings(nlp: Language) -> dict:
    model_cfg = nlp.config["components"][TRANSFORMER]["model"]
    return {key: model_cfg.get(key) for key in ENCODER_KEYS}


def load_sources(sources: Mapping[str, Source]) -> Dict[str, Language]:
    """``head name -> source pipeline``, each folder loaded once, with clear
    errors for a missing folder, head or transformer."""
    loaded: Dict[Path, Language] = {}
    result: Dict[str, Language] = {}
    missing = []
    for head, source in sources.items():
        folder, component = _split(head, source)
        path = Path(folder)
        if not (path / "config.cfg").exists():
            missing.append(f"  {head}: no trained pipeline at {path} (made by {HEAD_SCRIPTS.get(head, 'its training script')})")
            continue
        key = path.resolve()
        if key not in loaded:
            loaded[key] = spacy.load(path)
        nlp = loaded[key]
        if component not in nlp.pipe_names:
            raise AssemblyError(f"the pipeline at {path} has no component {component!r} (it has {nlp.pipe_names})")
        if TRANSFORMER not in nlp.pipe_names:
            raise AssemblyError(f"the pipeline at {path} has no {TRANSFORMER!r} component for {head!r} to read")
        result[head] = nlp
    if missing:
        raise AssemblyError("cannot assemble the pipeline, heads are missing:\n" + "\n".join(missing))
    return result


def check_same_encoder(sources: Mapping[str, Language]) -> Tuple[dict, dict]:
    """The encoder settings and weight fingerprint shared by all sources
    (AssemblyError when they differ)."""
    settings: Optional[dict] = None
    fingerprint: Optional[dict] = None
    first = None
    for head, nlp in sources.items():
        these = _encoder_settings(nlp)
        prints = weights_fingerprint(nlp.get_pipe(TRANSFORMER).model.transformer)
        if settings is None:
            settings, fingerprint, first = these, prints, head
            continue
        if these != settings:
            raise AssemblyError(
                f"the heads {first!r} and {head!r} were trained with different encoder settings: "
                f"{settings} vs {these}"
            )
        if prints != fingerprint:
            raise AssemblyError(
                f"the heads {first!r} and {head!r} were trained on different encoder weights "
                f"({fingerprint['sha256'][:12]}… vs {prints['sha256'][:12]}…): was one encoder fine-tuned?"
            )
    if settings is None:
        raise AssemblyError("no heads to assemble")
    return settings, fingerprint


def assemble_pipeline(
    sources: Mapping[str, Source],
    *,
    config: Union[str, Path] = CONFIG,
    order: Sequence[str] = HEAD_ORDER,
    encoder: Optional[str] = None,
    meta: Optional[dict] = None,
    share_listeners: bool = True,
) -> Language:
    """The shared frozen transformer and the heads of ``sources``
    (``head name -> trained pipeline folder``, or ``(folder, name of the head
    there)``), in ``order``. ``encoder``: the encoder name the heads must have
    been trained on (AssemblyError otherwise); None accepts theirs.
    ``share_listeners``: the heads' stock transformer listeners become
    ``spacy_scicls.SharedTransformerListener.v1`` (same output, token vectors
    pooled once per batch for all heads); otherwise the heads are sourced as
    they are."""
    heads = [h for h in order if h in sources] + [h for h in sources if h not in order]
    source_nlps = load_sources({h: sources[h] for h in heads})
    settings, fingerprint = check_same_encoder(source_nlps)
    if encoder is not None and settings["name"] != encoder:
        raise AssemblyError(f"the heads were trained on the encoder {settings['name']!r}, not {encoder!r}")
    overrides = {
        "nlp.pipeline": [TRANSFORMER],
        f"components.{TRANSFORMER}.factory": "scicls_frozen_transformer",
    }
    for key, value in settings.items():
        overrides[f"components.{TRANSFORMER}.model.{key}"] = value
    cfg = spacy.util.load_config(config, overrides=overrides)
    # Only the transformer is built from the config; the heads come from their sources.
    for name in list(cfg["components"]):
        if name != TRANSFORMER:
            del cfg["components"][name]
    nlp = spacy.util.load_model_from_config(cfg, auto_fill=True, validate=False)
    transformer = nlp.get_pipe(TRANSFORMER)
    transformer.initialize(lambda: [], nlp=nlp)
    # The heads' sources give the fingerprint of the weights alone; the component's
    # own (v2) fingerprint also covers the encoder's config and tokenizer files.
    loaded = {key: value for key, value in transformer.fingerprint().items() if key in fingerprint}
    if loaded != fingerprint:
        raise AssemblyError(
            f"the encoder {settings['name']!r} loads weights {loaded['sha256'][:12]}…, but the heads were "
            f"trained on {fingerprint['sha256'][:12]}…: install the encoder version they were trained with"
        )
    if share_listeners:
        nlp = _with_shared_listeners(nlp, cfg, heads, sources, source_nlps)
        transformer = nlp.get_pipe(TRANSFORMER)
    else:
        with warnings.catch_warnings():
            # W113: a sourced listener's upstream is not the source's transformer object; linking it
            # to this pipeline's transformer is the point.
            warnings.filterwarnings("ignore", message=r"\[W113\]")
            for head in heads:
                nlp.add_pipe(_split(head, sources[head])[1], name=head, source=source_nlps[head])
    linked = set(transformer.listening_components)
    unlinked = [h for h in heads if _has_listener(nlp, h) and h not in linked]
    if unlinked:
        raise AssemblyError(f"the heads {unlinked} do not listen to the shared transformer")
    nlp.meta.update(meta or {})
    return nlp


def _share_listener_config(component_cfg: dict) -> int:
    """Turn every stock transformer listener in a component's config into the
    shared one (same settings); returns how many it changed."""
    from .ml.shared_listener import LISTENER_ARCHITECTURE, STOCK_LISTENER_ARCHITECTURE

    changed = 0
    for key, value in component_cfg.items():
        if isinstance(value, dict):
            if value.get("@architectures") == STOCK_LISTENER_ARCHITECTURE:
                value["@architectures"] = LISTENER_ARCHITECTURE
                changed += 1
            changed += _share_listener_config(value)
    return changed


def _with_shared_listeners(
    nlp: Language, cfg, heads: Sequence[str], sources: Mapping[str, Source], source_nlps: Mapping[str, Language]
) -> Language:
    """The pipeline rebuilt from one config holding the transformer and every
    head (listeners made shared), each head's weights and settings copied from
    its source with ``to_bytes``/``from_bytes``."""
    transformer_bytes = nlp.get_pipe(TRANSFORMER).to_bytes(exclude=["vocab"])
    cfg = spacy.util.copy_config(cfg)
    for head in heads:
        component = _split(head, sources[head])[1]
        head_cfg = spacy.util.copy_config(source_nlps[head].config.interpolate()["components"][component])
        _share_listener_config(head_cfg)
        cfg["components"][head] = head_cfg
    cfg["nlp"]["pipeline"] = [TRANSFORMER, *heads]
    assembled = spacy.util.load_model_from_config(cfg, auto_fill=True, validate=False)
    assembled.get_pipe(TRANSFORMER).from_bytes(transformer_bytes, exclude=["vocab"])
    for head in heads:
        component = _split(head, sources[head])[1]
        source = source_nlps[head]
        for string in source.vocab.strings:
            assembled.vocab.strings.add(string)
        assembled.get_pipe(head).from_bytes(source.get_pipe(component).to_bytes(exclude=["vocab"]), exclude=["vocab"])
    return assembled


def _has_listener(nlp: Language, name: str) -> bool:
    from spacy_transformers.layers import TransformerListener

    model = getattr(nlp.get_pipe(name), "model", None)
    return model is not None and any(isinstance(node, TransformerListener) for node in model.walk())


def head_outputs(doc, head: str, nlp: Language) -> Dict[str, list]:
    """What the component ``head`` of ``nlp`` wrote on ``doc``, as comparable values."""
    pipe = nlp.get_pipe(head)
    if hasattr(pipe, "cat_keys"):
        keys = [k for k in pipe.cat_keys if k in doc.cats]
        return {"labels": keys, "scores": [float(doc.cats[k]) for k in keys]}
    if getattr(pipe, "spans_key", None) == "sections":
        spans = doc.spans.get("sections", [])
        return {
            "labels": [(s.start_char, s.end_char, s.label_) for s in spans],
            "scores": [float(s._.section_score) for s in spans],
        }
    if type(pipe).__name__ == "SpanEntityRecognizer" or head in ("entities", "ner"):
        return {
            "labels": [(e.start_char, e.end_char, e.label_) for e in doc.ents],
            "scores": [float(e._.entity_score) for e in doc.ents],
        }
    raise ValueError(f"no comparison for the component {head!r}")


def compare_with_sources(
    nlp: Language, sources: Mapping[str, Union[Source, Language, Tuple[Language, str]]], texts: Iterable[str]
) -> Dict[str, float]:
    """``head -> largest absolute difference`` between a head's scores in the
    assembled pipeline ``nlp`` and in its source pipeline, over ``texts``;
    ``inf`` when a label or span differs.

    Heads read what the heads before them wrote (the category heads read the
    title and abstract from ``doc.spans["sections"]``), so each source runs
    on the docs as the assembled pipeline has annotated them just before the
    head: same input, and the head must give the same output.
    """
    texts = list(texts)
    assembled = list(nlp.pipe(texts))
    # The heads of one source sit next to each other in the assembled pipeline
    # (as in HEAD_ORDER), so a source runs once, on the docs as annotated just
    # before the first of its heads.
    groups: Dict[str, Tuple[Language, List[Tuple[str, str]]]] = {}
    for head, source in sources.items():
        folder, component = _split(head, source)
        key = str(id(folder)) if isinstance(folder, Language) else str(Path(folder).resolve())
        if key not in groups:
            groups[key] = (folder if isinstance(folder, Language) else spacy.load(folder), [])
        groups[key][1].append((head, component))
    result: Dict[str, float] = {}
    for src, heads in groups.values():
        first = min(nlp.pipe_names.index(head) for head, _ in heads)
        with nlp.select_pipes(disable=nlp.pipe_names[first:]):
            before = list(nlp.pipe(texts))
        theirs_docs = list(src.pipe(before))
        for head, component in heads:
            worst = 0.0
            for mine, theirs in zip(assembled, theirs_docs):
                a, b = head_outputs(mine, head, nlp), head_outputs(theirs, component, src)
                if a["labels"] != b["labels"]:
                    worst = float("inf")
                    break
                worst = max([worst] + [abs(x - y) for x, y in zip(a["scores"], b["scores"])])
            result[head] = worst
    return result
