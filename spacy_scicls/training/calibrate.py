"""What a trained pipeline fits on dev data after its weights: the category heads' temperatures and
thresholds and the sections head's label order.

``spacy train`` fits weights only. The shipped pipeline's scripts fit the rest on dev data
(``scripts/train_categories.py``, ``scripts/train_sections.py``); here the same fits are one step
for any pipeline of the scicls heads:

- each ``scicls_doc_categories`` head: its temperature and per-label thresholds (and, where dev
  holds documents from outside its taxonomy, ``at_least_one_min``), by its own ``calibrate``, on the
  dev docs that carry a label of its taxonomy;
- each ``scicls_sections`` head: the transition model over its labels (which label follows which,
  ``spacy_scicls.ml.section_order.learn_transitions``) from the dev docs' gold sections in reading
  order, so that it decodes a paper's labels together.

Used as ``spacy train``'s ``[training.before_to_disk]`` callback
(``spacy_scicls.calibrate_on_dev.v1``, as ``configs/full_pipeline.cfg`` does), every saved
``model-best``/``model-last`` is fitted; on a saved pipeline:

    scicls calibrate PIPELINE dev.spacy --output CALIBRATED
    python -m spacy_scicls.training.calibrate PIPELINE dev.spacy --output CALIBRATED   # the same
"""
import argparse
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

from spacy.language import Language
from spacy.training import Corpus, Example
from spacy.util import logger, registry

from ..ml.section_order import learn_transitions
from ..pipeline.doc_categories import DocCategorizer
from ..pipeline.sections import SectionClassifier


def section_label_sequences(head: SectionClassifier, examples: Iterable[Example]) -> List[List[Optional[int]]]:
    """Each gold doc's section labels in reading order, as indices of ``head``'s labels
    (``None`` for a label it does not have); docs without sections give none."""
    index = {label: i for i, label in enumerate(head.labels)}
    sequences = []
    for eg in examples:
        spans = sorted(eg.reference.spans.get(head.spans_key, []), key=lambda span: (span.start, -span.end))
        if spans:
            sequences.append([index.get(span.label_) for span in spans])
    return sequences


def calibrate_pipeline(nlp: Language, examples: Iterable[Example], smoothing: float = 1.0) -> Dict[str, dict]:
    """Fit every category head's decisions and every sections head's label order on the dev
    ``examples`` (their predicted docs are run through ``nlp`` here, each head reading what the
    components before it wrote). Returns what was fitted, per component; a head whose taxonomy or
    sections no dev doc carries is left as it was and reported as skipped."""
    examples = list(examples)
    docs = [eg.predicted for eg in examples]
    report: Dict[str, dict] = {}
    for name, component in nlp.pipeline:
        if isinstance(component, DocCategorizer):
            here = [Example(doc, eg.reference) for doc, eg in zip(docs, examples)]
            try:
                report[name] = component.calibrate(here)
            except ValueError as error:  # no dev doc carries this taxonomy
                logger.warning("%s: not calibrated (%s)", name, error)
                report[name] = {"skipped": str(error)}
        elif isinstance(component, SectionClassifier):
            sequences = section_label_sequences(component, examples)
            if sequences:
                component.set_transitions(learn_transitions(sequences, len(component.labels), smoothing=smoothing))
                report[name] = {"label_order_from_docs": len(sequences)}
            else:
                logger.warning("%s: no dev doc has gold sections; its label order is left as it was", name)
                report[name] = {"skipped": "no dev doc has gold sections"}
        docs = list(component.pipe(docs)) if hasattr(component, "pipe") else [component(doc) for doc in docs]
    return report


def read_examples(nlp: Language, path: Optional[Path], limit: int = 0) -> List[Example]:
    """The gold examples of a ``.spacy`` file (section headings travel with ``store_user_data``)."""
    if path is None or not Path(path).exists():
        raise ValueError(f"no dev data at {path}")
    return list(Corpus(path, limit=limit)(nlp))


@registry.callbacks("spacy_scicls.calibrate_on_dev.v1")
def make_calibrate_on_dev(path: Optional[Path], limit: int = 0, smoothing: float = 1.0) -> Callable[[Language], Language]:
    """A ``[training.before_to_disk]`` callback: every pipeline ``spacy train`` saves is first
    calibrated on the dev docs of ``path`` (``${paths.dev}``; ``limit``: the first docs only, 0: all)
    by :func:`calibrate_pipeline`, with the weights it saves (the optimizer's averages). ``path`` may be
    null in a config that is only loaded, not trained; calling the callback then is an error."""

    def calibrate_on_dev(nlp: Language) -> Language:
        report = calibrate_pipeline(nlp, read_examples(nlp, path, limit), smoothing=smoothing)
        logger.info("calibrated on %s: %s", path, report)
        return nlp

    return calibrate_on_dev


def calibrate_saved_pipeline(model: str, dev: Path, output: Path, limit: int = 0) -> Dict[str, dict]:
    """Load the pipeline ``model`` (path or package name), calibrate it on the dev docs of ``dev``
    and save it to ``output``; returns what was fitted, per component. Raises ``ValueError`` when
    ``dev`` does not exist."""
    import spacy

    nlp = spacy.load(model)
    report = calibrate_pipeline(nlp, read_examples(nlp, dev, limit))
    nlp.to_disk(output)
    return report


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a saved pipeline (path or package name)")
    parser.add_argument("dev", type=Path, help="dev docs, a .spacy file")
    parser.add_argument("--output", type=Path, required=True, help="where the calibrated pipeline is saved")
    parser.add_argument("--limit", type=int, default=0, help="read only the first docs of the dev file (0: all)")
    args = parser.parse_args(argv)
    for name, fitted in calibrate_saved_pipeline(args.model, args.dev, args.output, args.limit).items():
        print(f"{name}: {fitted}")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
