"""`albert_mlm.native_logs`: which stderr lines count as TensorFlow's start-up
noise (`is_noise`, on real lines), and `filtered_native_stderr()` dropping
them from file descriptor 2 while passing every other line through."""

import os
import sys
import tempfile

import pytest

from albert_mlm.native_logs import filtered_native_stderr, is_noise

# Lines TensorFlow 2.21 and tensorflow-text print on a CPU-only machine.
TENSORFLOW_START_UP_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are "
    "written to STDERR",
    "I0000 00:00:1796097376.986925   29986 port.cc:153] oneDNN custom operations "
    "are on. You may see slightly different numerical results due to "
    "floating-point round-off errors from different computation orders. To "
    "turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "I0000 00:00:1796097376.988220   29986 cudart_stub.cc:31] Could not find cuda "
    "drivers on your machine, GPU will not be used.",
    "I0000 00:00:1796097377.054102   29986 cpu_feature_guard.cc:227] This "
    "TensorFlow binary is optimized to use available CPU instructions in "
    "performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other "
    "operations, rebuild TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1796097380.455078   29986 cuda_platform.cc:52] failed call to "
    "cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
    "E0000 00:00:1796097381.834413   29986 util.cc:131] oneDNN supports DT_INT64 "
    "only on platforms with AVX-512. Falling back to the default Eigen-based "
    "implementation if present.",
]

# Lines a user must see.
MEANINGFUL_LINES = [
    "/work/lib/python3.11/site-packages/keras/src/layer.py:12: UserWarning: "
    "Layer Add does not have a `quantize` method implemented.",
    "  warnings.warn(str(e))",
    "albert-mlm fill-mask: error: No [MASK] in the text 'hello'.",
    "E0000 00:00:1796097380.455078   29986 some_other.cc:1] Real failure",
    "W0000 00:00:1796097380.455078   29986 some_other.cc:1] Real warning",
    "Traceback (most recent call last):",
    "MemoryError",
    "",
]


@pytest.mark.parametrize("line", TENSORFLOW_START_UP_LINES)
def test_tensorflow_start_up_lines_are_noise(line):
    assert is_noise(line)
    assert is_noise(line + "\n")


@pytest.mark.parametrize("line", MEANINGFUL_LINES)
def test_other_lines_pass_through(line):
    assert not is_noise(line)


def test_noise_must_start_the_line():
    # The same words quoted inside a message of ours are not noise.
    quoted = "note: TensorFlow said 'failed call to cuInit'"
    assert not is_noise(quoted)
    assert not is_noise("  " + TENSORFLOW_START_UP_LINES[0])


def _descriptor_2_output(action):
    """What `action()` writes to file descriptor 2, as text."""
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            action()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        return capture.read().decode("utf-8")


def test_filtered_native_stderr_drops_noise_and_keeps_the_rest():
    noise = TENSORFLOW_START_UP_LINES[1]
    failure = "E0000 00:00:1796097380.455078   29986 some_other.cc:1] Real failure"
    warning = MEANINGFUL_LINES[0]

    def write_lines():
        with filtered_native_stderr():
            os.write(2, (noise + "\n").encode())
            os.write(2, (failure + "\n").encode())
            os.write(2, (TENSORFLOW_START_UP_LINES[5] + "\n").encode())
            os.write(2, (warning + "\n").encode())
            os.write(2, b"a last line without a newline")

    output = _descriptor_2_output(write_lines)
    assert output == f"{failure}\n{warning}\na last line without a newline"


def test_descriptor_2_is_restored_after_the_filter():
    def write_after():
        with filtered_native_stderr():
            pass
        os.write(2, (TENSORFLOW_START_UP_LINES[1] + "\n").encode())

    # Outside the context nothing is filtered any more.
    assert _descriptor_2_output(write_after) == TENSORFLOW_START_UP_LINES[1] + "\n"


def test_filter_lets_an_error_inside_propagate_and_still_forwards_lines():
    def fail_inside():
        with pytest.raises(RuntimeError, match="inside"):
            with filtered_native_stderr():
                os.write(2, b"kept before the error\n")
                raise RuntimeError("inside")

    assert _descriptor_2_output(fail_inside) == "kept before the error\n"
