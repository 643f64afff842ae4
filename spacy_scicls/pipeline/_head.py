"""What the heads share: the training step on a shared transformer."""
from typing import Any, Dict, Iterable, List, Optional

from spacy.pipeline import TrainablePipe
from spacy.training import Example, validate_examples
from thinc.api import Optimizer, set_dropout_rate


class SharedEncoderHead(TrainablePipe):
    """A trainable component whose model reads the shared transformer.

    Subclasses say what their model reads in training (``training_inputs``)
    and how wrong it was (``get_loss``).
    """

    def training_inputs(self, examples: List[Example]) -> Any:
        raise NotImplementedError

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, f"{type(self).__name__}.update")
        if not examples:
            return losses
        set_dropout_rate(self.model, drop)
        # Forward and backward on every batch, even when no example carries
        # this head's annotation (its gradient is then zero): the shared
        # transformer finishes its update only once every listener reported.
        scores, backprop = self.model.begin_update(self.training_inputs(examples))
        loss, d_scores = self.get_loss(examples, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses
