"""Check that KerasHub 0.32 loads presets written by albert_mlm, exactly.

For each KerasHub golden preset in tests/data/keras_hub/, load it with
albert_mlm, write it back with `save_to_preset`, load that with
`keras_hub.models.AlbertMaskedLM.from_preset` and compare its logits with the
stored goldens.

Then the same through an `AlbertPreTrainer` (the masked LM plus a
sentence-order head, a class KerasHub lacks): KerasHub's `AlbertBackbone` must
read its preset with the golden outputs, and KerasHub's `AlbertMaskedLM`
(in a process that imports KerasHub alone, as a KerasHub user would) either
with the golden logits or not at all.
Needs keras-hub (a tool dependency, never a runtime one):

    KERAS_BACKEND=tensorflow /path/to/venv-with-keras-hub/bin/python \\
        tools/golden_files/check_keras_hub_reads_our_presets.py
"""

import os
import pathlib
import subprocess
import sys
import tempfile
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import keras_hub  # noqa: E402

from albert_mlm import AlbertMaskedLM, AlbertPreTrainer  # noqa: E402

INPUTS = ("token_ids", "segment_ids", "padding_mask", "mask_positions")
BACKBONE_OUTPUTS = ("sequence_output", "pooled_output")
TOLERANCE = 1e-5
# KerasHub's masked LM on a preset, in a process that never imports albert_mlm:
# prints the logits' largest difference from the goldens, or the refusal.
_KERAS_HUB_ALONE = f"""
import sys
import numpy as np
import keras_hub
preset, goldens = sys.argv[1], np.load(sys.argv[2])
try:
    masked_lm = keras_hub.models.AlbertMaskedLM.from_preset(preset)
except Exception as error:
    print(f"refused ({{type(error).__name__}}: {{str(error)[:160]}})")
    sys.exit()
logits = np.asarray(masked_lm({{key: goldens[key] for key in {INPUTS!r}}}))
print(float(np.abs(logits - goldens["logits"]).max()))
"""


def _largest_difference(actual, expected):
    return float(np.abs(np.asarray(actual) - expected).max())


def _saved(task_cls, preset, directory):
    ours = pathlib.Path(directory) / "preset"
    with warnings.catch_warnings():
        # A pretrainer's sentence-order head, absent from KerasHub's preset,
        # starts fresh; it plays no part here.
        warnings.filterwarnings("ignore", message=".*sentence-order head")
        task_cls.from_preset(str(preset)).save_to_preset(str(ours))
    return str(ours)


def _keras_hub_alone(preset, goldens_path):
    result = subprocess.run(
        [sys.executable, "-c", _KERAS_HUB_ALONE, preset, str(goldens_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=tempfile.gettempdir(),  # Out of reach of albert_mlm.
    )
    if result.returncode:
        return f"crashed: {result.stderr.strip().splitlines()[-1]}"
    answer = result.stdout.strip().splitlines()[-1]
    return answer if answer.startswith("refused") else float(answer)


def _check(preset):
    """Print what KerasHub reads from our presets of `preset`; returns the
    largest difference from the goldens among what it read."""
    goldens = np.load(preset / "goldens.npz")
    inputs = {key: goldens[key] for key in INPUTS}
    with tempfile.TemporaryDirectory() as directory:
        ours = _saved(AlbertMaskedLM, preset, directory)
        masked_lm = keras_hub.models.AlbertMaskedLM.from_preset(ours)
        worst = _largest_difference(masked_lm(inputs), goldens["logits"])
        print(
            f"{preset.name}, saved from AlbertMaskedLM: KerasHub's logits differ "
            f"by {worst:.2e}"
        )

    with tempfile.TemporaryDirectory() as directory:
        ours = _saved(AlbertPreTrainer, preset, directory)
        backbone = keras_hub.models.AlbertBackbone.from_preset(ours)
        outputs = backbone({key: inputs[key] for key in INPUTS[:3]})
        found = {
            f"AlbertBackbone {key}": _largest_difference(outputs[key], goldens[key])
            for key in BACKBONE_OUTPUTS
        }
        # With albert_mlm imported, `albert_mlm>AlbertPreTrainer` resolves to
        # a class that is not KerasHub's AlbertMaskedLM, and KerasHub then
        # builds that task anew around the backbone, with a fresh head, as it
        # does for any preset of another task class: reported, not compared.
        masked_lm = keras_hub.models.AlbertMaskedLM.from_preset(ours)
        fresh_head = _largest_difference(masked_lm(inputs), goldens["logits"])
        alone = _keras_hub_alone(ours, preset / "goldens.npz")
    if not isinstance(alone, str):
        found["AlbertMaskedLM logits (KerasHub alone)"] = alone
    print(f"{preset.name}, saved from AlbertPreTrainer: KerasHub's")
    for what, difference in found.items():
        print(f"    {what} differ by {difference:.2e}")
    print(
        "    AlbertMaskedLM with albert_mlm imported: a fresh head, as KerasHub "
        f"builds for another task's preset (logits differ by {fresh_head:.2e})"
    )
    if isinstance(alone, str):
        print(f"    AlbertMaskedLM (KerasHub alone): {alone}")
    return max(worst, *found.values())


def main():
    worst = 0.0
    for preset in sorted((ROOT / "tests" / "data" / "keras_hub").iterdir()):
        if (preset / "goldens.npz").exists():
            worst = max(worst, _check(preset))
    if worst > TOLERANCE:
        sys.exit(f"FAILED: largest difference {worst:.2e} > {TOLERANCE}")
    print("OK: KerasHub reads every preset we wrote with the same outputs.")


if __name__ == "__main__":
    main()
