"""Base class of the tokenizer and preprocessor: Keras layers that run text ops."""

import keras


class PreprocessingLayer(keras.layers.Layer):
    """A weightless Keras layer whose `call` takes strings, not tensors.

    Keras' `Layer.__call__` converts inputs to backend tensors, which strings
    cannot become under jax or torch. Text layers skip that step and run
    TensorFlow ops (inside `tf.data`) or Python code (eagerly) on any backend,
    while keeping what a Keras layer gives: `get_config`, serialization and
    asset saving inside `.keras` files.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def __call__(self, *args, **kwargs):
        return self.call(*args, **kwargs)
