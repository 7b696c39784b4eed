"""`AlbertBackbone`'s constructor arguments, checked before anything is built.

Each error names the argument, the value received and what is allowed; a
configuration too large for this machine's memory (a billion layers, a
billion positions) is refused at once with the size it would need.

>>> from albert_mlm import ARCHITECTURES
>>> check_backbone_arguments({**ARCHITECTURES["albert_base_en_uncased"],
...     "num_heads": 7, "activation": "gelu_approximate", "layer_norm_epsilon": 1e-12})
Traceback (most recent call last):
ValueError: `hidden_dim` must be divisible by `num_heads`. Received: ...
"""

from albert_mlm.argument_checks import (
    require_fits_in_memory,
    require_positive_int,
    require_rate,
)
from albert_mlm.layers.activations import get_activation

_POSITIVE_INTEGER_ARGUMENTS = (
    "vocabulary_size", "num_layers", "num_heads", "embedding_dim", "hidden_dim",
    "intermediate_dim", "num_groups", "num_inner_repetitions",
    "max_sequence_length", "num_segments",
)  # fmt: skip


def check_backbone_arguments(arguments):
    """Raise `ValueError` naming the first invalid argument in `arguments`."""
    for name in _POSITIVE_INTEGER_ARGUMENTS:
        require_positive_int(name, arguments[name])
    if arguments["num_layers"] % arguments["num_groups"] != 0:
        raise ValueError(
            "`num_layers` must be divisible by `num_groups`. Received: "
            f"num_layers={arguments['num_layers']}, "
            f"num_groups={arguments['num_groups']}"
        )
    if arguments["hidden_dim"] % arguments["num_heads"] != 0:
        raise ValueError(
            "`hidden_dim` must be divisible by `num_heads`. Received: "
            f"hidden_dim={arguments['hidden_dim']}, "
            f"num_heads={arguments['num_heads']}"
        )
    require_rate("dropout", arguments["dropout"], allow_one=False)
    get_activation(arguments["activation"])
    epsilon = arguments["layer_norm_epsilon"]
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, int | float)
        or not (epsilon > 0)
    ):
        raise ValueError(
            "`layer_norm_epsilon` must be positive. Received: "
            f"layer_norm_epsilon={epsilon!r:.40}"
        )
    require_fits_in_memory(
        "This AlbertBackbone (its weights and one sequence's activations)",
        _bytes_needed(**arguments),
        {name: arguments[name] for name in _POSITIVE_INTEGER_ARGUMENTS},
    )


def _bytes_needed(
    vocabulary_size, num_layers, num_heads, embedding_dim, hidden_dim,
    intermediate_dim, num_groups, num_inner_repetitions, max_sequence_length,
    num_segments, **_,
):  # fmt: skip
    """Float32 bytes of the weights and of one full-length forward pass."""
    block = 4 * hidden_dim**2 + 2 * hidden_dim * intermediate_dim
    weights = (
        (vocabulary_size + max_sequence_length + num_segments) * embedding_dim
        + embedding_dim * hidden_dim
        + num_groups * num_inner_repetitions * block
        + hidden_dim**2
    )
    per_block_call = max_sequence_length * (
        4 * hidden_dim + intermediate_dim + num_heads * max_sequence_length
    )
    return 4 * (weights + num_layers * num_inner_repetitions * per_block_call)
