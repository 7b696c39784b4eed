"""Measuring the Keras implementations: ours and KerasHub's.

Both packages name the same classes (`AlbertBackbone`, `AlbertMaskedLM`,
`AlbertTokenizer`, `AlbertMaskedLMPreprocessor`) with the same arguments, so
one measurement serves both: it receives the namespace that holds them.
"""

from keras_devices import (
    hide_gpus_from_tensorflow,
    keras_device_name,
    keras_device_peak_memory_mib,
)
from measuring import LEARNING_RATE, throughput, time_calls
from model_configuration import model_config
from shared_inputs import VOCABULARY_FILE, read_shared_inputs


def run_albert_mlm(workdir, args):
    hide_gpus_from_tensorflow()
    import albert_mlm  # This checkout's (see `model_configuration`).

    return measure_masked_lm(albert_mlm, albert_mlm.__version__, workdir, args)


def run_keras_hub(workdir, args):
    hide_gpus_from_tensorflow()
    import keras_hub

    return measure_masked_lm(keras_hub.models, keras_hub.__version__, workdir, args)


def measure_masked_lm(models, version, workdir, args):
    """Builds `models.AlbertMaskedLM` and its preprocessor, and measures both."""
    import keras

    keras.utils.set_random_seed(args.seed)
    backbone = models.AlbertBackbone(**model_config(args), dtype=args.precision)
    model = models.AlbertMaskedLM(backbone, preprocessor=None)
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
