"""What both golden-file scripts share: their input batch and `.npz` writer.

The batch has rows of different lengths (padding at the end), a second
segment starting part way, token ids clear of the five special ids, and sorted
mask positions inside each row's unpadded part.
"""

import zipfile

import numpy as np

FIRST_ORDINARY_ID = 5  # <pad>, <unk>, [CLS], [SEP], [MASK] come first.


def golden_batch(vocabulary_size, row_lengths, segment_splits, length, masks, seed):
    """`(token_ids, segment_ids, padding_mask, mask_positions)`, all int32."""
    rng = np.random.default_rng(seed)
    batch = len(row_lengths)
    token_ids = np.zeros((batch, length), dtype=np.int32)
    segment_ids = np.zeros((batch, length), dtype=np.int32)
    padding_mask = np.zeros((batch, length), dtype=np.int32)
    mask_positions = np.zeros((batch, masks), dtype=np.int32)
    for row, (row_length, split) in enumerate(
        zip(row_lengths, segment_splits, strict=True)
    ):
        token_ids[row, :row_length] = rng.integers(
            FIRST_ORDINARY_ID, vocabulary_size, size=row_length
        )
        segment_ids[row, split:row_length] = 1
        padding_mask[row, :row_length] = 1
        positions = rng.choice(row_length, size=masks, replace=False)
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
