"""The device a Keras backend runs on, and its peak accelerator memory."""


def keras_device_name():
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform == "cpu":
            return "cpu"
        return f"{device.platform} ({device.device_kind})"
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    return gpus[0].name if gpus else "cpu"


def keras_device_peak_memory_mib():
    """Peak accelerator memory of the Keras backend, or None on CPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
    elif backend == "torch":
        import torch

        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    else:
        import tensorflow as tf

        if not tf.config.list_logical_devices("GPU"):
            return None
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
    return None if peak is None else peak / 2**20


def reset_keras_device_peak_memory():
    """Start the peak anew where the backend can (torch; a JAX process keeps
    its peak, so the device suite runs one configuration per process there)."""
    import keras

    if keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()


def hide_gpus_from_tensorflow():
    """Under JAX or PyTorch, keep `tf.data` preprocessing off their accelerator."""
    import keras

    if keras.backend.backend() == "tensorflow":
        return
    import tensorflow as tf

    tf.config.set_visible_devices([], "GPU")
