"""The `albert-mlm` command line (also `python -m albert_mlm`).

albert-mlm fill-mask "the [MASK] of the united states."
albert-mlm pretrain --corpus "texts/*.txt" --out my_albert --steps 2000
albert-mlm evaluate --preset my_albert --corpus held_out.txt
albert-mlm convert hf://albert/albert-base-v2 albert_base_v2
albert-mlm export albert_tiny_en_uncased served_albert
albert-mlm upload my_albert hf://someone/my-albert
albert-mlm presets

Each subcommand lives in its own module here and imports Keras and
TensorFlow only when it runs, so `--help` answers at once. Errors are one
line on stderr and a non-zero exit; TensorFlow's native start-up lines are
filtered out of stderr (see `native_logs`). A reader that stops early
(`albert-mlm fill-mask --file big.txt | head`) ends the command quietly,
with the status a shell gives a Unix tool stopped that way (141).
"""

import argparse
import gc
import os
import stat
import sys

from albert_mlm.cli import (
    convert_command,
    evaluate_command,
    export_command,
    fill_mask_command,
    presets_command,
    pretrain_command,
    score_command,
    upload_command,
)
from albert_mlm.native_logs import filtered_native_stderr

# Errors shown as one line; anything else is a bug and keeps its traceback.
_USER_ERRORS = (ValueError, TypeError, OSError, ImportError, RuntimeError, MemoryError)
# A message echoing a huge value (a 10 MB line, a deep JSON) stays readable.
_MAX_MESSAGE_LENGTH = 600
# 128 + SIGPIPE: how a shell reports `cat` or `grep` stopped by a reader
# that closed the pipe, so `set -o pipefail` scripts treat us the same.
_READER_CLOSED_STATUS = 141


def build_parser():
    parser = argparse.ArgumentParser(
        prog="albert-mlm", description="ALBERT masked-language modelling."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (
        fill_mask_command,
        score_command,
        pretrain_command,
        evaluate_command,
        convert_command,
        export_command,
        upload_command,
        presets_command,
    ):
        command.add_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    _keep_jax_compilations()
    with filtered_native_stderr():
        try:
            args.run(args)
            sys.stdout.flush()  # Output still buffered meets a closed pipe here.
            code = 0
        except _USER_ERRORS as error:
            if _reader_closed(error):
                code = _stop_writing()
            else:
                message = f"albert-mlm {args.command}: error: {_short(error)}"
                print(message, file=sys.stderr)
                code = 1
        _finalise_data_pipelines()
    return code


def _reader_closed(error):
    """True when `error` says the pipe or socket on stdout lost its reader."""
    if not isinstance(error, BrokenPipeError):
        return False
    try:
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (OSError, ValueError):  # No file descriptor (a captured stdout).
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _stop_writing():
    """Python's recipe for a closed stdout (the `signal` module's "Note on
    SIGPIPE"): stdout goes to devnull, so the flush at exit of what is still
    buffered cannot fail again and print a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return _READER_CLOSED_STATUS


def _finalise_data_pipelines():
    """Finalise `tf.data` generator iterators still held by reference cycles
    (a finished or stopped `pretrain`'s) while Python runs: at interpreter
    exit TensorFlow can no longer call into Python and prints an error line.
    Called once the failure, if any, is handled, so its frames are free."""
    if "tensorflow" in sys.modules:
        gc.collect()


def _keep_jax_compilations():
    """On JAX, keep compiled programs across runs (JAX's persistent cache):
    a second `albert-mlm fill-mask` then starts in about half the time.
    An explicit `JAX_COMPILATION_CACHE_DIR` wins."""
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    os.environ.setdefault(
        "JAX_COMPILATION_CACHE_DIR", os.path.join(cache_home, "albert_mlm", "jax")
    )
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")


def _short(error):
    message = " ".join(str(error).split())
    if len(message) > _MAX_MESSAGE_LENGTH:
        message = message[: _MAX_MESSAGE_LENGTH - 1] + "…"
    return message


if __name__ == "__main__":
    sys.exit(main())
