"""BERT's and ALBERT's learning-rate schedule: linear warm-up, polynomial decay.

The rate climbs linearly from 0 to `peak_learning_rate` over `warmup_steps`,
then follows Keras' `PolynomialDecay` from `peak_learning_rate` to
`end_learning_rate` over `decay_steps` counted from step 0 (so the decay
ends at `decay_steps` whatever the warm-up), as the original ALBERT code
does: 0.00176 at batch 4096, 3,125 warm-up steps, power 1 over 125,000 steps.

>>> schedule = WarmupPolynomialDecay(1e-3, warmup_steps=10, decay_steps=100)
>>> [round(float(schedule(step)), 6) for step in (0, 5, 10, 55, 100)]
[0.0, 0.0005, 0.0009, 0.00045, 0.0]
"""

import keras
from keras import ops

from albert_mlm.argument_checks import require_positive_int


@keras.saving.register_keras_serializable(package="albert_mlm")
class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up, then `keras.optimizers.schedules.PolynomialDecay`.

    Args:
        peak_learning_rate: the rate at the end of the warm-up.
        warmup_steps: steps of linear warm-up from 0 (0 for none).
        decay_steps: the step at which the decay reaches its end.
        end_learning_rate: the rate from `decay_steps` on.
        power: the decay's polynomial power (1: linear).
    """

    def __init__(
        self,
        peak_learning_rate,
        warmup_steps,
        decay_steps,
        end_learning_rate=0.0,
        power=1.0,
    ):
        if not peak_learning_rate > 0:
            raise ValueError(
                "`peak_learning_rate` must be positive. Received: "
                f"peak_learning_rate={peak_learning_rate!r:.40}"
            )
        if warmup_steps:
            require_positive_int("warmup_steps", warmup_steps)
        require_positive_int("decay_steps", decay_steps)
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.decay_steps = int(decay_steps)
        self.end_learning_rate = float(end_learning_rate)
        self.power = float(power)
        self._decay = keras.optimizers.schedules.PolynomialDecay(
            self.peak_learning_rate,
            self.decay_steps,
            end_learning_rate=self.end_learning_rate,
            power=self.power,
        )

    def __call__(self, step):
        step = ops.cast(step, "float32")
        decayed = self._decay(step)
        if not self.warmup_steps:
            return decayed
        warming = self.peak_learning_rate * step / self.warmup_steps
        return ops.where(step < self.warmup_steps, warming, decayed)

    def get_config(self):
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
        }
