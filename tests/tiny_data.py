"""Tiny models and documents that the tests make themselves (no downloads, no data files).

The tiny encoder is a real BERT (2 layers, 32 wide) with a WordPiece
vocabulary written here, saved with ``save_pretrained`` so that it loads
through the same ``from_pretrained(name)`` path as a hub name would.
"""
import string
from pathlib import Path
from typing import List

from spacy.language import Language
from spacy.tokens import Doc

from spacy_scicls.training import gold_doc

WORDS = """
the a an of and in to we for on with is are this that our by from as be at results method methods
introduction abstract discussion conclusion related work experiments experiment data model models
climate temperature precipitation rainfall drought europe africa asia ocean sea surface el nino
enso index monsoon heat wave flood cmip6 cmip5 simulation simulations network neural language
cancer trial patients treatment surgery drug study paper propose show table figure section approach
""".split()


def write_tiny_bert(path: Path) -> Path:
    """Save a randomly initialised tiny BERT and its tokenizer to ``path``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(0)  # the same tiny model whichever test asks for it first
    path.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = list(dict.fromkeys(specials + chars + ["##" + c for c in chars] + sorted(WORDS)))
    vocab_file = path / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(vocab_file=str(vocab_file), do_lower_case=True, model_max_length=512)
    tokenizer.save_pretrained(str(path))
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(str(path))
    return path


PAPERS = [
    (
        "Drought in Europe under CMIP6\n\n"
        "Abstract\nWe study drought and heat wave trends in Europe with CMIP6 simulations.\n\n"
        "1 Introduction\nDrought is a climate hazard. ENSO and the monsoon drive rainfall in Asia.\n\n"
        "2 Methods\nWe use CMIP6 model simulations of precipitation and temperature.\n\n"
        "3 Results\nDrought in Europe increases; heat wave days double.\n\n"
        "4 Conclusion\nEurope faces more drought.\n",
        ["abstract", "introduction", "methods", "results", "conclusion"],
        {"arxiv": ["physics.ao-ph"], "erc": ["PE10"]},
        [("drought", "natural_hazard"), ("Europe", "location"), ("CMIP6", "model"), ("ENSO", "teleconnection"), ("heat wave", "natural_hazard")],
    ),
    (
        "Neural language models for science\n\n"
        "Abstract\nWe propose a neural network language model for scientific text.\n\n"
        "1 Introduction\nLanguage models read papers. Related work uses simple models.\n\n"
        "2 Related Work\nPrevious work studies neural language models.\n\n"
        "3 Our Approach\nOur method is a neural network trained on data.\n\n"
        "4 Experiments\nThe model improves results on every data set (Table 1).\n",
        ["abstract", "introduction", "related_work", "methods", "results"],
        {"arxiv": ["cs.CL", "cs.LG"], "erc": ["PE6"]},
        [],
    ),
    (
        "Surgery or drug treatment for cancer patients: a trial\n\n"
        "Abstract\nThis trial compares surgery and drug treatment in cancer patients.\n\n"
        "Methods\nPatients in the trial receive surgery or a drug.\n\n"
        "Results\nSurgery shows better results for patients.\n\n"
        "Discussion\nThe trial supports surgery for cancer.\n",
        ["abstract", "methods", "results", "discussion"],
        {"hrcs_rac": ["6.1", "6.4"], "hrcs_hc": ["Cancer and neoplasms"], "erc": ["LS7"]},
        [],
    ),
    (
        "El Nino and rainfall in Africa\n\n"
        "Abstract\nEl Nino changes rainfall and flood risk in Africa.\n\n"
        "1 Introduction\nThe ENSO index tracks El Nino. Sea surface temperature drives rainfall.\n\n"
        "2 Data and methods\nWe use an ENSO index and rainfall data for Africa.\n\n"
        "3 Results\nFlood risk in Africa rises in El Nino years.\n",
        ["abstract", "introduction", "methods", "results"],
        {"arxiv": ["physics.ao-ph"], "erc": ["PE10"]},
        [("El Nino", "teleconnection"), ("rainfall", "variable"), ("flood", "natural_hazard"), ("Africa", "location"), ("ENSO", "teleconnection"), ("Sea surface temperature", "variable")],
    ),
]


def gold_docs(nlp: Language) -> List[Doc]:
    return [
        gold_doc(nlp, text, section_labels=sections, cats=cats, entities=ents)
        for text, sections, cats, ents in PAPERS
    ]


def planted_entity_examples(nlp: Language, texts: List[str], repeat: int, width: int, label: str = "hazard"):
    """Training examples for an entity head on a frozen encoder, with the answer planted.

    Each text holds "heat wave": that span is the gold entity ``label``, and its
    token vectors (random, ``width`` wide, seeded) get one fixed direction
    added, so a head that learns anything finds it.
    """
    import numpy
    from spacy.tokens import Span
    from spacy.training import Example

    from spacy_scicls.entities.frozen import with_token_vectors

    rng = numpy.random.RandomState(0)
    planted = rng.normal(size=width).astype("float32")
    examples = []
    for text in texts * repeat:
        gold = nlp.make_doc(text)
        start = [t.text for t in gold].index("heat")
        gold.set_ents([Span(gold, start, start + 2, label=label)], default="outside")
        vectors = rng.normal(scale=0.1, size=(len(gold), width)).astype("float32")
        vectors[start : start + 2] += planted
        examples.append(Example(with_token_vectors(gold, vectors), gold))
    return examples


def set_listener_width(head, width: int) -> None:
    """What a transformer in the pipeline would tell a head's listener at initialization."""
    for node in head.model.walk():
        if node.name == "transformer-listener":
            node.set_dim("nO", width)


def train_entity_head(nlp: Language, config: dict, examples, steps: int = 40, width: int = 8):
    """A ``scicls_entities`` head added to ``nlp`` with ``config`` and trained ``steps`` updates on
    ``examples``, whose token vectors (``width`` wide) its listener reads from ``doc._.trf_data``:
    no transformer in the pipeline, the way scripts/evaluate_entities.py trains."""
    from thinc.api import Adam

    head = nlp.add_pipe("scicls_entities", config=config)
    set_listener_width(head, width)
    head.initialize(lambda: examples, nlp=nlp)
    optimizer = Adam(0.01)
    for _ in range(steps):
        head.update(examples, sgd=optimizer)
    return head
