"""Filter the start-up lines TensorFlow's native libraries print to stderr.

Importing TensorFlow and tensorflow-text, and initialising their devices,
prints about eight lines (`I0000 ... oneDNN custom operations are on`,
`E0000 ... failed call to cuInit`, ...) straight to file descriptor 2,
before any logging setting can take effect (`TF_CPP_MIN_LOG_LEVEL` is read
later). A newcomer reads them as failures. Inside `filtered_native_stderr()`
descriptor 2 goes through a pipe; a thread drops those known lines and passes
every other line (Python warnings and errors included) to the real stderr.

>>> with filtered_native_stderr():
...     import tensorflow
"""

import contextlib
import os
import re
import sys
import threading

# Informational lines, and the warnings and errors TensorFlow prints on every
# machine without a GPU or with a CPU it was not compiled for.
_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|I\d{4} [\d:. ]+\d+ \S+:\d+\] "
    r"|[EW]\d{4} [\d:. ]+\d+ \S+:\d+\] (failed call to cuInit|oneDNN supports"
    r"|Unable to register cu\w+ factory|computation placer already registered"
    r"|Could not find cuda drivers)"
    r"|To enable the following instructions: .*rebuild TensorFlow)"
)


def is_noise(line):
    """True for a TensorFlow start-up line that carries no information."""
    return bool(_NOISE.match(line))


@contextlib.contextmanager
def filtered_native_stderr():
    """Drop TensorFlow's start-up lines from stderr while inside."""
    try:
        sys.stderr.flush()
        original = os.dup(2)
    except (OSError, ValueError):  # No usable descriptor 2: nothing to filter.
        yield
        return
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(
        target=_forward, args=(read_end, original), daemon=True
    )
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original, 2)  # Closes the pipe's last write end: EOF.
        forwarder.join()
        os.close(original)


def _forward(read_end, destination):
    with os.fdopen(read_end, "rb") as lines:
        for line in lines:
            if not is_noise(line.decode("utf-8", "replace")):
                os.write(destination, line)


def import_tensorflow_quietly():
    """Import TensorFlow and tensorflow-text with their start-up lines
    filtered; later imports are then silent.

    Devices are left alone: a program may still configure them (virtual
    devices, memory growth) before TensorFlow starts them.
    """
    if "tensorflow_text" in sys.modules:
        return
    with filtered_native_stderr():
        import tensorflow  # noqa: F401
        import tensorflow_text  # noqa: F401  (its native library logs too)
