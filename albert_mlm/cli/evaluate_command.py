"""`albert-mlm evaluate`: masked-token loss and accuracy of a preset on text."""

from albert_mlm.cli.options import add_subcommand, positive_int
from albert_mlm.presets.registry import DEFAULT_PRESET


def add_parser(commands):
    parser = add_subcommand(
        commands, "evaluate", "masked-token loss and accuracy on text files", run
    )
    parser.add_argument("--preset", default=DEFAULT_PRESET, help="the model to score")
    parser.add_argument(
        "--corpus", nargs="+", required=True, metavar="FILE",
        help="UTF-8 text files, one text per line",
    )  # fmt: skip
    parser.add_argument(
        "--batch-size", type=positive_int, default=64, help="texts per batch"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the masking"
    )


def run(args):
    import tensorflow as tf

    from albert_mlm import AlbertMaskedLM
    from albert_mlm.training.corpus import corpus_files
    from albert_mlm.training.evaluation import evaluate_masked_lm

    files = corpus_files(args.corpus)
    masked_lm = AlbertMaskedLM.from_preset(args.preset)
    tf.random.set_seed(args.seed)
    batches = (
        tf.data.TextLineDataset(files)
        .filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)
        .batch(args.batch_size)
        .map(masked_lm.preprocessor)
    )
    results = evaluate_masked_lm(masked_lm, batches)
    print(
        f"masked tokens {results['masked_tokens']}  loss {results['loss']:.4f}  "
        f"top-1 {results['top1']:.4f}  top-5 {results['top5']:.4f}"
    )
