"""Measuring the Keras implementations: ours and KerasHub's.

Both packages name the same classes (`AlbertBackbone`, `AlbertMaskedLM`,
`AlbertTokenizer`, `AlbertMaskedLMPreprocessor`) with the same arguments, so
one measurement serves both: it receives the namespace that holds them.
"""

from keras_devices import (
    hide_gpus_from_tensorflow,
    keras_device_name,
    keras_device_peak_memory_mib,
    reset_keras_device_peak_memory,
)
from measuring import LEARNING_RATE, throughput, time_calls
from model_configuration import model_config
from shared_inputs import VOCABULARY_FILE, make_model_inputs, read_shared_inputs


def run_albert_mlm(workdir, args):
    hide_gpus_from_tensorflow()
    import albert_mlm  # This checkout's (see `model_configuration`).

    return measure_masked_lm(albert_mlm, albert_mlm.__version__, workdir, args)


def run_keras_hub(workdir, args):
    hide_gpus_from_tensorflow()
    import keras_hub

    return measure_masked_lm(keras_hub.models, keras_hub.__version__, workdir, args)


def albert_mlm_models():
    """This checkout's model classes, imported without TensorFlow (which
    `import albert_mlm`'s classes load for the tokenizer): the device suite
    runs where only keras and a backend are installed."""
    import types

    from albert_mlm.models.albert_backbone import AlbertBackbone
    from albert_mlm.models.albert_masked_lm import AlbertMaskedLM
    from albert_mlm.version import __version__

    return types.SimpleNamespace(
        AlbertBackbone=AlbertBackbone, AlbertMaskedLM=AlbertMaskedLM
    ), __version__


def keras_hub_models():
    import keras_hub

    return keras_hub.models, keras_hub.__version__


def build_masked_lm(models, args):
    """`models.AlbertMaskedLM` of `args`' configuration, random weights, no
    preprocessor."""
    import keras

    keras.utils.set_random_seed(args.seed)
    backbone = models.AlbertBackbone(**model_config(args), dtype=args.precision)
    return models.AlbertMaskedLM(backbone, preprocessor=None)


def measure_model_steps(models_and_version, args):
    """Train and predict tokens/s and peak device memory of one
    configuration (the device suite: no preprocessing)."""
    import keras

    reset_keras_device_peak_memory()
    models, version = models_and_version
    model = build_masked_lm(models, args)
    compile_keras_model(model)
    batch = keras_batch(make_model_inputs(model_config(args), args))
    return {
        "version": version,
        "framework": f"keras {keras.__version__} ({keras.backend.backend()})",
        "device": keras_device_name(),
        "jit_compile": bool(model.jit_compile),
        "parameters": int(model.count_params()),
        "train_tokens": measure_keras_train(model, batch, args),
        "predict_tokens": measure_keras_predict(model, batch, args),
        "device_peak_memory_mib": keras_device_peak_memory_mib(),
    }


def measure_masked_lm(models, version, workdir, args):
    """Builds `models.AlbertMaskedLM` and its preprocessor, and measures both."""
    model = build_masked_lm(models, args)
    preprocessor = models.AlbertMaskedLMPreprocessor(
        models.AlbertTokenizer(proto=str(VOCABULARY_FILE)),
        sequence_length=args.sequence_length,
        mask_selection_length=args.mask_selection_length,
    )
    result = measure_keras_implementation(model, preprocessor, workdir, args)
    result["version"] = version
    return result


def measure_keras_implementation(model, preprocessor, workdir, args):
    import keras

    inputs, strings = read_shared_inputs(workdir)
    compile_keras_model(model)
    batch = keras_batch(inputs)
    train = measure_keras_train(model, batch, args)
    predict = measure_keras_predict(model, batch, args)
    preprocess = measure_tf_data_preprocessing(preprocessor, strings, args)
    return {
        "framework": f"keras {keras.__version__} ({keras.backend.backend()})",
        "device": keras_device_name(),
        "jit_compile": bool(model.jit_compile),
        "parameters": int(model.count_params()),
        "train_tokens": train,
        "predict_tokens": predict,
        "preprocess_strings": preprocess,
        "device_peak_memory_mib": keras_device_peak_memory_mib(),
    }


def keras_batch(inputs):
    """`(x, y, sample_weight)` as backend tensors, as the preprocessor makes."""
    from keras import ops

    x = {
        key: ops.convert_to_tensor(inputs[key], "int32")
        for key in ("token_ids", "segment_ids", "padding_mask", "mask_positions")
    }
    y = ops.convert_to_tensor(inputs["mask_ids"], "int32")
    sample_weight = ops.ones(y.shape, "float32")
    return x, y, sample_weight


def compile_keras_model(model):
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[],
    )


def measure_keras_train(model, batch, args):
    """Tokens/s of `train_on_batch` (forward, loss, backward, Adam update)."""
    x, y, sample_weight = batch
    seconds = time_calls(
        lambda: model.train_on_batch(x, y, sample_weight=sample_weight),
        args.warmup_steps,
        args.steps,
    )
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_keras_predict(model, batch, args):
    """Tokens/s of `predict_on_batch`: logits at the masked positions (numpy)."""
    x, _, _ = batch
    seconds = time_calls(
        lambda: model.predict_on_batch(x), args.warmup_steps, args.steps
    )
    return throughput(args.batch_size * args.sequence_length, seconds)


def measure_tf_data_preprocessing(preprocessor, strings, args):
    """Strings/s of a preprocessor mapped over batched `tf.data` (batch first)."""
    import tensorflow as tf

    dataset = (
        tf.data.Dataset.from_tensor_slices(strings)
        .batch(args.batch_size)
        .map(preprocessor, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )

    def one_pass():
        for _ in dataset:
            pass

    seconds = time_calls(one_pass, warmup=1, repeats=args.preprocess_passes)
    return throughput(len(strings), seconds)
