"""The inputs every worker measures on: one model batch and lines of text.

The parent writes them once into the work directory and each worker reads
them, so that all implementations see the same data.
"""

import shutil

import numpy as np
from model_configuration import REPO_ROOT

VOCABULARY_FILE = REPO_ROOT / "tests" / "data" / "vocabulary.spm"
# Token ids below this are special tokens (<pad>, <unk>, [CLS], [SEP], [MASK]).
FIRST_ORDINARY_TOKEN_ID = 5
MASK_SELECTION_RATE = 0.15


def make_model_inputs(config, args):
    """One batch of random token ids, mask positions and labels (numpy)."""
    rng = np.random.default_rng(args.seed)
    batch, length = args.batch_size, args.sequence_length
    vocabulary_size = config["vocabulary_size"]
    mask_positions = np.stack(
        [
            np.sort(
                rng.choice(
                    np.arange(1, length - 1), args.mask_selection_length, replace=False
                )
            )
            for _ in range(batch)
        ]
    )
    return {
        "token_ids": rng.integers(
            FIRST_ORDINARY_TOKEN_ID, vocabulary_size, (batch, length)
        ),
        "segment_ids": np.zeros((batch, length)),
        "padding_mask": np.ones((batch, length)),
        "mask_positions": mask_positions,
        "mask_ids": rng.integers(
            FIRST_ORDINARY_TOKEN_ID, vocabulary_size, mask_positions.shape
        ),
    }


def make_strings(count, seed):
    """`count` short English lines, built from a few phrase lists."""
    subjects = (
        "the dog", "a small cat", "my neighbour", "the old teacher", "our team",
        "the river", "a young girl", "the farmer", "this machine", "the council",
    )  # fmt: skip
    verbs = (
        "found", "painted", "carried", "watched", "built",
        "forgot", "described", "followed", "opened", "sold",
    )  # fmt: skip
    objects = (
        "a red ball", "the broken window", "three letters", "the morning train",
        "an empty box", "the long report", "a quiet garden", "the new bridge",
        "two green apples", "the last page",
    )  # fmt: skip
    endings = (
        "yesterday.", "in the rain.", "before dinner.", "near the station.",
        "with great care.", "after the meeting.", "last winter.",
        "on sunday morning.", "without a word.", "at the market.",
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        parts = [rng.choice(words) for words in (subjects, verbs, objects, endings)]
        line = " ".join(parts)
        lines.append(line[0].upper() + line[1:])
    return lines


def write_shared_inputs(workdir, config, args):
    """Inputs every subprocess reads, so that all measure the same data."""
    np.savez(workdir / "inputs.npz", **make_model_inputs(config, args))
    strings = make_strings(args.num_strings, args.seed)
    (workdir / "strings.txt").write_text("\n".join(strings) + "\n")
    # transformers' AlbertTokenizer.from_pretrained wants a directory.
    (workdir / "hf_tokenizer").mkdir()
    shutil.copy(VOCABULARY_FILE, workdir / "hf_tokenizer" / "spiece.model")


def read_shared_inputs(workdir):
    with np.load(workdir / "inputs.npz") as stored:
        inputs = {key: stored[key] for key in stored.files}
    strings = (workdir / "strings.txt").read_text().splitlines()
    return inputs, strings
