"""Check that KerasHub 0.32 loads presets written by albert_mlm, exactly.

For each KerasHub golden preset in tests/data/keras_hub/, load it with
albert_mlm, write it back with `save_to_preset`, load that with
`keras_hub.models.AlbertMaskedLM.from_preset` and compare its logits with the
stored goldens. Needs keras-hub (a tool dependency, never a runtime one):

    KERAS_BACKEND=tensorflow /path/to/venv-with-keras-hub/bin/python \\
        tools/check_keras_hub_reads_our_presets.py
"""

import pathlib
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keras_hub  # noqa: E402

from albert_mlm import AlbertMaskedLM  # noqa: E402

INPUTS = ("token_ids", "segment_ids", "padding_mask", "mask_positions")


def main():
    worst = 0.0
    for preset in sorted((ROOT / "tests" / "data" / "keras_hub").iterdir()):
        if not (preset / "goldens.npz").exists():
            continue
        goldens = np.load(preset / "goldens.npz")
        with tempfile.TemporaryDirectory() as directory:
            ours = pathlib.Path(directory) / "preset"
            AlbertMaskedLM.from_preset(str(preset)).save_to_preset(str(ours))
            theirs = keras_hub.models.AlbertMaskedLM.from_preset(str(ours))
            logits = np.asarray(theirs({key: goldens[key] for key in INPUTS}))
        difference = float(np.abs(logits - goldens["logits"]).max())
        worst = max(worst, difference)
        print(
            f"{preset.name}: KerasHub logits on our preset differ by {difference:.2e}"
        )
    if worst > 1e-5:
        sys.exit(f"FAILED: largest difference {worst:.2e} > 1e-5")
    print("OK: KerasHub reads every preset we wrote with the same logits.")


if __name__ == "__main__":
    main()
