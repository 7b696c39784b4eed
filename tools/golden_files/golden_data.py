"""What both golden-file scripts share: their paths, input batch and writers.

The batch has rows of different lengths (padding at the end), a second
segment starting part way, token ids clear of the five special ids, and sorted
mask positions inside each row's unpadded part. The writers are
deterministic, so that re-running a script reproduces its files byte for byte.
"""

import json
import os
import zipfile

import numpy as np
from make_test_vocabulary import OUTPUT_PATH as VOCABULARY_PATH
from make_test_vocabulary import SPECIAL_PIECES

DATA_DIR = os.path.dirname(VOCABULARY_PATH)  # tests/data
# The vocabulary gives the special pieces the first ids, in this order.
SPECIAL_TOKEN_IDS = {piece: index for index, piece in enumerate(SPECIAL_PIECES)}
FIRST_ORDINARY_ID = len(SPECIAL_PIECES)

# Three rows of length 10 with 0, 3 and 5 padding positions at the end.
BATCH_LENGTH = 10
ROW_LENGTHS = (10, 7, 5)
SEGMENT_SPLITS = (6, 3, 2)  # The first segment-1 position of each row.
MASKS_PER_ROW = 4


def golden_batch(vocabulary_size, seed):
    """`(token_ids, segment_ids, padding_mask, mask_positions)`, all int32."""
    rng = np.random.default_rng(seed)
    batch = len(ROW_LENGTHS)
    token_ids = np.zeros((batch, BATCH_LENGTH), dtype=np.int32)
    segment_ids = np.zeros((batch, BATCH_LENGTH), dtype=np.int32)
    padding_mask = np.zeros((batch, BATCH_LENGTH), dtype=np.int32)
    mask_positions = np.zeros((batch, MASKS_PER_ROW), dtype=np.int32)
    for row, (row_length, split) in enumerate(
        zip(ROW_LENGTHS, SEGMENT_SPLITS, strict=True)
    ):
        token_ids[row, :row_length] = rng.integers(
            FIRST_ORDINARY_ID, vocabulary_size, size=row_length
        )
        segment_ids[row, split:row_length] = 1
        padding_mask[row, :row_length] = 1
        positions = rng.choice(row_length, size=MASKS_PER_ROW, replace=False)
        mask_positions[row] = np.sort(positions)
    return token_ids, segment_ids, padding_mask, mask_positions


def save_npz_deterministic(path, arrays):
    """Like `np.savez`, but with fixed zip timestamps (byte-reproducible)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as file:
                np.lib.format.write_array(
                    file, np.ascontiguousarray(arrays[key]), allow_pickle=False
                )


def write_json(path, data):
    """`data` as UTF-8 JSON, one-space indents, non-ASCII text kept as is."""
    with open(path, "w", encoding="utf-8") as file:
        json.dump(data, file, indent=1, ensure_ascii=False)
        file.write("\n")
