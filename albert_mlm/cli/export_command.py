"""`albert-mlm export`: a preset -> a TensorFlow SavedModel that fills
`[MASK]` in raw strings (see `albert_mlm.serving.saved_model`).

Runs on the tensorflow backend whatever `KERAS_BACKEND` says, so a preset
trained on any backend exports the same way.
"""

import os

from albert_mlm.cli.options import add_subcommand, positive_int
from albert_mlm.serving.saved_model import DEFAULT_MAX_MASKS


def add_parser(commands):
    parser = add_subcommand(
        commands, "export", "a preset -> a SavedModel serving fill-mask on text", run
    )
    parser.add_argument(
        "preset", help="a preset name, kaggle:// or hf:// handle, or directory"
    )
    parser.add_argument(
        "directory", help="the SavedModel folder to write (new, empty, or an export)"
    )
    parser.add_argument(
        "--top-k", type=positive_int, default=5, help="candidates per [MASK]"
    )
    parser.add_argument(
        "--max-masks",
        type=positive_int,
        default=DEFAULT_MAX_MASKS,
        help="[MASK]s per text the outputs hold; a text with more is refused "
        "(status 3)",
    )
    parser.add_argument(
        "--sequence-length",
        type=positive_int,
        help="longest text in tokens, [CLS] and [SEP] included (default: the "
        "preset's); longer texts are refused (status 2)",
    )


def run(args):
    # Before Keras is imported: the SavedModel is a TensorFlow graph.
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "albert-mlm export needs the tensorflow backend, but Keras was "
            f"already imported with {keras.backend.backend()!r}; run it with "
            "KERAS_BACKEND=tensorflow."
        )
    from albert_mlm import AlbertMaskedLM
    from albert_mlm.serving.saved_model import write_saved_model

    overrides = {}
    if args.sequence_length is not None:
        overrides["sequence_length"] = args.sequence_length
    masked_lm = AlbertMaskedLM.from_preset(args.preset, **overrides)
    write_saved_model(masked_lm, args.directory, args.top_k, args.max_masks)
    print(f"Wrote {args.directory}")
