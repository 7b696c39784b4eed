"""The activation functions ALBERT checkpoints name, resolved to Keras ops.

Hugging Face configs name them as transformers' `ACT2FN` does: `gelu_new`,
`gelu_fast`, `gelu_pytorch_tanh` or `gelu_accurate` for the tanh approximation
of GELU (KerasHub's default, which we call `gelu_approximate`), `gelu` or
`gelu_python` for the exact erf form, or `relu`.

>>> import keras
>>> tuple(get_activation("gelu_new")(keras.ops.ones((2,))).shape)
(2,)
"""

import keras

# All compute 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
_TANH_GELU_NAMES = (
    "gelu_approximate", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "gelu_accurate",
)  # fmt: skip


def gelu_approximate(x):
    return keras.activations.gelu(x, approximate=True)


def gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


_ACTIVATIONS = {
    **dict.fromkeys(_TANH_GELU_NAMES, gelu_approximate),
    "gelu": gelu_exact,
    "gelu_python": gelu_exact,
    "relu": keras.activations.relu,
}
ACTIVATION_NAMES = tuple(_ACTIVATIONS)


def get_activation(name):
    """Return the function for an activation name in `ACTIVATION_NAMES`."""
    if isinstance(name, str) and name in _ACTIVATIONS:
        return _ACTIVATIONS[name]
    raise ValueError(
        f"`activation` must be one of {list(ACTIVATION_NAMES)}. "
        f"Received: activation={name!r:.80}"
    )
