"""What the heads share: the training step on a shared transformer."""
from typing import Any, Dict, Iterable, List, Optional, Tuple

from spacy.pipeline import TrainablePipe
from spacy.training import Example, validate_examples
from thinc.api import Optimizer, set_dropout_rate
from thinc.types import Floats2d


class SharedEncoderHead(TrainablePipe):
    """A trainable component whose model reads the shared transformer.

    Subclasses say what their model reads in training and what it should
    output (``training_batch``, computed once per step), and how far its
    output is from that (``loss``).
    """

    def training_batch(self, examples: List[Example]) -> Tuple[Any, Any]:
        """``(model inputs, targets)`` for a batch of examples."""
        raise NotImplementedError

    def loss(self, targets: Any, scores: Floats2d) -> Tuple[float, Floats2d]:
        """``(loss, gradient of the scores)`` against ``targets``."""
        raise NotImplementedError

    def get_loss(self, examples: Iterable[Example], scores: Floats2d) -> Tuple[float, Floats2d]:
        _, targets = self.training_batch(list(examples))
        return self.loss(targets, scores)

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
        inputs, targets = self.training_batch(examples)
        set_dropout_rate(self.model, drop)
        # Forward and backward on every batch, even when no example carries
        # this head's annotation (its gradient is then zero): the shared
        # transformer finishes its update only once every listener reported.
        scores, backprop = self.model.begin_update(inputs)
        loss, d_scores = self.loss(targets, scores)
        backprop(d_scores)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses
