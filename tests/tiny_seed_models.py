"""Tiny local models shaped like the five published seed models (no downloads).

Each builder saves a randomly initialised model with ``save_pretrained`` into a
folder, so that the adapters load it through ``from_pretrained(folder)``, the
same path a hub name takes. Label names, ``problem_type`` and maximum length
follow the seed model cards; the encoders are 2-layer, 32-wide BERTs.
"""
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from tiny_data import write_tiny_bert

# ERC panels as the ERC seed model names them (panel NAMES, not codes).
ERC_PANEL_NAMES = [
    "Mathematics", "Fundamental Constituents of Matter", "Condensed Matter Physics",
    "Physical and Analytical Chemical Sciences", "Synthetic Chemistry and Materials",
    "Computer Science and Informatics", "Systems and Communication Engineering",
    "Products and Processes Engineering", "Universe Sciences", "Earth System Science",
    "Materials Engineering",
    "Molecules of Life: Biological Mechanisms, Structures and Functions",
    "Integrative Biology: from Genes and Genomes to Systems",
    "Cell Biology, Development, Stem Cells and Regeneration",
    "Physiology in Health, Disease and Ageing", "Neuroscience and Disorders of the Nervous System",
    "Immunity, Infection and Immunotherapy", "Prevention, Diagnosis and Treatment of Human Diseases",
    "Environmental Biology, Ecology and Evolution", "Biotechnology and Biosystems Engineering",
    "Individuals, Markets and Organisations", "Institutions, Governance and Legal Systems",
    "The Social World and Its Interactions", "The Human Mind and Its Complexity", "Texts and Concepts",
    "The Study of the Human Past", "Human Mobility, Environment, and Space", "Studies of Cultures and Arts",
]
# The arXiv seed: 11 categories in the card's label order.
ARXIV_CODES = ["math.AC", "cs.CV", "cs.AI", "cs.SY", "math.GR", "cs.CE", "cs.PL", "cs.IT", "cs.DS", "cs.NE", "math.ST"]
# A few HRCS Research Activity Codes spelled "code name", as the HRCS data spell them.
HRCS_RAC_NAMES = [
    "1.1 Normal biological development and functioning", "2.1 Biological and endogenous factors",
    "4.1 Discovery and preclinical testing of markers and technologies", "5.1 Pharmaceuticals",
    "6.1 Pharmaceuticals", "6.4 Surgery", "8.1 Organisation and delivery of services",
]
IMRAD_CLASSES = ["introduction", "related work", "methods", "results", "discussion"]
CLIMATE_ENTITY_TYPES = ["Location", "Meteorological Phenomenon", "Organism", "Quantity", "Time Period"]


def write_tiny_sequence_classifier(
    path: Path,
    labels: Sequence[str],
    *,
    problem_type: str,
    max_length: int = 512,
    thresholds: Optional[Dict[str, float]] = None,
    seed: int = 0,
    safe_serialization: bool = True,
) -> Path:
    """A tiny ``BertForSequenceClassification`` with the label names of a seed model.

    ``thresholds`` (label name -> threshold) are written to ``metadata.json``
    beside the model, as the HRCS seed ships them.
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    encoder = write_tiny_bert(Path(path) / "_encoder")
    torch.manual_seed(seed)
    config = BertConfig.from_pretrained(str(encoder))
    config.num_labels = len(labels)
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: i for i, label in enumerate(labels)}
    config.problem_type = problem_type
    config.max_position_embeddings = 512
    model = BertForSequenceClassification(config)
    # Spread the logits so that probabilities are not all near 0.5.
    with torch.no_grad():
        model.classifier.weight.mul_(40.0)
        model.classifier.bias.uniform_(-2.0, 2.0)
    model.save_pretrained(str(path), safe_serialization=safe_serialization)
    tokenizer = AutoTokenizer.from_pretrained(str(encoder), model_max_length=max_length)
    tokenizer.save_pretrained(str(path))
    if thresholds is not None:
        (Path(path) / "metadata.json").write_text(json.dumps({"thresholds": thresholds}), encoding="utf8")
    return Path(path)


def write_tiny_span_marker(path: Path, labels: List[str] = CLIMATE_ENTITY_TYPES, *, seed: int = 0, entity_max_length: int = 6) -> Path:
    """A tiny SpanMarker model over the tiny BERT, saved as a SpanMarker checkpoint.

    Its marker-pair classifier is scaled so that some spans come out as entities.
    """
    import torch
    from span_marker import SpanMarkerModel

    encoder = write_tiny_bert(Path(path) / "_encoder")
    torch.manual_seed(seed)
    model = SpanMarkerModel.from_pretrained(
        str(encoder), labels=["O", *labels], model_max_length=128, marker_max_length=64,
        entity_max_length=entity_max_length,
    )
    with torch.no_grad():
        model.classifier.weight.mul_(30.0)
        model.classifier.bias.zero_()
    model.save_pretrained(str(path), safe_serialization=True)
    return Path(path)
