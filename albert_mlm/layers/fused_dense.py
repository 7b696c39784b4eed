"""`FusedDense`: a `keras.layers.Dense` computed in the form each backend runs best.

It computes exactly what `keras.layers.Dense` computes, with two speed tricks
that change no value:

- **The product, bias and activation fused.** TensorFlow's graph optimizer
  (oneDNN on CPU) fuses a two-dimensional `MatMul`, `BiasAdd` and GELU or
  ReLU into one kernel, but not the batched product and broadcast add of
  `keras.ops.matmul` and `keras.ops.add`, so there the flattened
  `(tokens, features)` matrix is multiplied. PyTorch's `linear` adds the bias
  inside the product (one `addmm`). JAX (XLA) fuses the plain ops itself.
- **Weights cast once per pass.** Under a mixed precision policy Keras casts
  a float32 variable to the compute dtype every time a layer reads it. An
  ALBERT block is called once per layer that shares it (12 times per pass in
  the base model), so inside `cast_once_per_pass()`, which `AlbertBackbone`
  opens around each forward pass, the first call casts the kernel and bias
  and the later calls of the same pass reuse them (and, when training, one
  gradient is cast back instead of 12).

Quantized (`quantize("int8")` and Keras' other modes), it runs Keras' own
quantized `Dense` path: the tricks apply to float weights only.

**LoRA** (`enable_lora`, Hu et al., 2021), with Keras' `Dense` semantics:
the kernel is frozen and `(lora_alpha / rank) * A @ B` is added to it, A
`(inputs, rank)` initialised `he_uniform`, B `(rank, outputs)` zeros, both
float32. A kernel made of `output_parts` (equal column blocks, such as
attention's `[query | key | value]`) may take factors on some parts only:
the others' columns get zeros, so the layer computes exactly what separate
layers with LoRA on those parts alone would. The update is merged into the
kernel once per pass, like the cast, so a block shared by many layer calls
multiplies its factors once.

>>> import keras
>>> dense = FusedDense(4, activation="relu")
>>> tuple(dense(keras.ops.ones((2, 3, 8))).shape)
(2, 3, 4)
"""

import contextlib
import threading

import keras
from keras import ops

_pass = threading.local()


@contextlib.contextmanager
def cast_once_per_pass():
    """Within this context, each `FusedDense` weight is cast only once."""
    previous = getattr(_pass, "casts", None)
    _pass.casts = {}
    try:
        yield
    finally:
        _pass.casts = previous


@keras.saving.register_keras_serializable(package="albert_mlm")
class FusedDense(keras.layers.Dense):
    """`keras.layers.Dense`, with its weights read once per pass and fused ops.

    Takes the arguments of `keras.layers.Dense`, and:

    Args:
        output_parts: names of equal column blocks of the kernel (such as
            `("query", "key", "value")`), which LoRA may adapt one by one;
            `None` for one block.
        lora_parts: the parts `lora_rank` adapts when the layer is built
            (all when `None`); how `get_config` records `enable_lora`.

    Example:
    >>> dense = FusedDense(4, dtype="mixed_bfloat16")
    >>> with cast_once_per_pass():
    ...     outputs = [dense(keras.ops.ones((2, 8))) for _ in range(3)]
    >>> keras.backend.standardize_dtype(outputs[0].dtype)
    'bfloat16'
    """

    def __init__(self, units, output_parts=None, lora_parts=None, **kwargs):
        super().__init__(units, **kwargs)
        self.output_parts = None if output_parts is None else tuple(output_parts)
        if self.output_parts is not None and units % len(self.output_parts):
            raise ValueError(
                f"`units` ({units}) must split into {len(self.output_parts)} equal "
                f"parts. Received: output_parts={output_parts}"
            )
        self.lora_parts = None if lora_parts is None else tuple(lora_parts)

    def build(self, input_shape):
        # `Dense.build` would enable Keras' own LoRA over the whole kernel;
        # a configured rank is enabled here instead, on its parts.
        lora_rank, self.lora_rank = self.lora_rank, None
        super().build(input_shape)
        if lora_rank:
            self.enable_lora(lora_rank, self.lora_alpha, parts=self.lora_parts)

    @property
    def kernel(self):
        # With LoRA, the frozen kernel (Keras' `Dense` would merge its own
        # factors here); `merged_kernel()` adds the update.
        return self._kernel if self.lora_enabled else super().kernel

    def call(self, inputs, training=None):
        if self.lora_enabled:
            kernel = self._compute_value(self._kernel, self.merged_kernel)
        else:
            kernel = self._compute_value(self.kernel)
        bias = self._compute_value(self.bias) if self.use_bias else None
        backend = keras.backend.backend()
        if backend == "tensorflow" and len(inputs.shape) > 2:
            return _tensorflow_dense(inputs, kernel, bias, self.activation)
        if backend == "torch":
            import torch

            outputs = torch.nn.functional.linear(inputs, kernel.T, bias)
        else:
            outputs = ops.matmul(inputs, kernel)
            if bias is not None:
                outputs = ops.add(outputs, bias)
        return outputs if self.activation is None else self.activation(outputs)

    def enable_lora(
        self,
        rank,
        lora_alpha=None,
        a_initializer="he_uniform",
        b_initializer="zeros",
        parts=None,
    ):
        """Freeze the kernel and add rank-`rank` factors to `parts` of it
        (every part when `None`), scaled by `lora_alpha / rank` (1 by default).
        """
        self._check_lora_request(rank, parts)
        parts = self.output_parts if parts is None else tuple(parts)
        self._tracker.unlock()
        for part in parts or (None,):
            width = self.units // (len(self.output_parts) if part else 1)
            for factor, shape, initializer in (
                ("a", (self._kernel.shape[0], rank), a_initializer),
                ("b", (rank, width), b_initializer),
            ):
                # float32 whatever the policy, as Keras' own factors: small
                # updates would vanish in a half-precision variable.
                variable = self.add_weight(
                    name=lora_factor_name(part, factor),
                    shape=shape,
                    initializer=keras.initializers.get(initializer),
                    dtype="float32",
                )
                setattr(self, lora_factor_name(part, factor), variable)
        self._tracker.lock()
        self._kernel.trainable = False
        self.lora_enabled = True
        self.lora_rank = rank
        self.lora_alpha = rank if lora_alpha is None else lora_alpha
        self.lora_parts = parts

    def _check_lora_request(self, rank, parts):
        problem = None
        if not self.built:
            problem = "it is not built yet"
        elif self.lora_enabled:
            problem = "LoRA is already enabled on it"
        elif self.quantization_mode:
            problem = f"it is quantized ({self.quantization_mode!r})"
        if problem:
            raise ValueError(f"Cannot enable LoRA on {self.name!r}: {problem}.")
        if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
            raise ValueError(f"`rank` must be a positive integer. Received: {rank!r}")
        unknown = [p for p in parts or () if p not in (self.output_parts or ())]
        if unknown or (parts is not None and not parts):
            raise ValueError(
                f"`parts` must name some of {self.name!r}'s output parts "
                f"{list(self.output_parts or ())}. Received: {parts!r}"
            )

    def lora_factors(self):
        """`{part: (A, B)}` of the LoRA-adapted parts (`None` for the whole
        kernel); `{}` without LoRA."""
        if not self.lora_enabled:
            return {}
        return {
            part: tuple(getattr(self, lora_factor_name(part, f)) for f in "ab")
            for part in self.lora_parts or (None,)
        }

    def merged_kernel(self):
        """The kernel with the LoRA update added, in the kernel's dtype."""
        factors = self.lora_factors()
        if not factors:
            return self.kernel
        scale = self.lora_alpha / self.lora_rank
        if self.output_parts is None:
            update = ops.matmul(*factors[None])
        else:
            width = self.units // len(self.output_parts)
            zeros = ops.zeros((self._kernel.shape[0], width), "float32")
            update = ops.concatenate(
                [
                    ops.matmul(*factors[part]) if part in factors else zeros
                    for part in self.output_parts
                ],
                axis=1,
            )
        merged = ops.add(self._kernel, scale * update)
        return ops.cast(merged, self._kernel.dtype)

    def save_own_variables(self, store):
        if not self.lora_enabled:
            return super().save_own_variables(store)
        # As Keras' `Dense`: the update merged in, a plain layer's variables.
        store["0"] = self.merged_kernel()
        if self.use_bias:
            store["1"] = self.bias

    def load_own_variables(self, store):
        if not self.lora_enabled:
            return super().load_own_variables(store)
        # Saved kernels hold their update already (`save_own_variables`).
        self._kernel.assign(store["0"])
        if self.use_bias:
            self.bias.assign(store["1"])
        for factor_a, factor_b in self.lora_factors().values():
            factor_a.assign(ops.zeros(factor_a.shape))
            factor_b.assign(ops.zeros(factor_b.shape))

    def quantize(self, mode=None, type_check=True, config=None):
        if self.lora_enabled:
            raise ValueError(
                f"Cannot quantize {self.name!r}: LoRA is enabled on it, and the "
                "quantized path would drop the update. Save the model (the "
                "update is merged in), load it and quantize that."
            )
        # Keras quantizes `Dense` itself but not its subclasses, which may
        # compute something else; this one computes exactly what `Dense` does.
        super().quantize(mode, type_check=False, config=config)

    def get_config(self):
        return {
            **super().get_config(),
            "output_parts": self.output_parts,
            "lora_parts": self.lora_parts,
        }

    def _compute_value(self, weight, read=None):
        """`weight` (or `read()`, a value made from it) in the compute dtype,
        computed once per pass when in one."""
        casts = getattr(_pass, "casts", None)

        def compute():
            return ops.cast(weight if read is None else read(), self.compute_dtype)

        if casts is None or _compiling():
            return compute()
        key = (id(weight), self.compute_dtype)
        if key not in casts:
            casts[key] = compute()
        return casts[key]


def lora_factor_name(part, factor):
    """`lora_kernel_a` (Keras' name) or, for a part, `query_lora_kernel_a`."""
    return f"{part}_lora_kernel_{factor}" if part else f"lora_kernel_{factor}"


def _compiling():
    """True while `torch.compile` traces: it guards on the cache's keys and
    would recompile for every layer call; its own fusion makes casts cheap."""
    if keras.backend.backend() != "torch":
        return False
    import torch

    return torch.compiler.is_compiling()


def _tensorflow_dense(inputs, kernel, bias, activation):
    import tensorflow as tf

    flat_inputs = tf.reshape(inputs, (-1, kernel.shape[0]))
    outputs = tf.matmul(flat_inputs, kernel)
    if bias is not None:
        outputs = tf.nn.bias_add(outputs, bias)
    if activation is not None:
        outputs = activation(outputs)  # Before the reshape, to be fused.
    leading_shape = tf.shape(inputs)[:-1]
    outputs = tf.reshape(outputs, tf.concat([leading_shape, tf.shape(kernel)[1:]], 0))
    # The dynamic reshape loses the static shape; give back what is known.
    outputs.set_shape(inputs.shape[:-1].concatenate(kernel.shape[1:]))
    return outputs
