"""The activation functions ALBERT checkpoints name, resolved to Keras ops.

Hugging Face configs say `gelu_new` or `gelu_fast` for the tanh approximation
of GELU (KerasHub's default), `gelu` for the exact erf form, or `relu`.

>>> import keras
>>> tuple(get_activation("gelu_new")(keras.ops.ones((2,))).shape)
(2,)
"""

import keras

# Names that mean the tanh approximation of GELU: all compute
# 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
_TANH_GELU_NAMES = ("gelu_approximate", "gelu_new", "gelu_fast", "gelu_pytorch_tanh")
ACTIVATION_NAMES = _TANH_GELU_NAMES + ("gelu", "relu")


def gelu_approximate(x):
    return keras.activations.gelu(x, approximate=True)


def gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def get_activation(name):
    """Return the function for an activation name in `ACTIVATION_NAMES`."""
    if name in _TANH_GELU_NAMES:
        return gelu_approximate
    if name == "gelu":
        return gelu_exact
    if name == "relu":
        return keras.activations.relu
    raise ValueError(
        f"`activation` must be one of {list(ACTIVATION_NAMES)}. "
        f"Received: activation={name!r}"
    )
