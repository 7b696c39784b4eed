"""List the public names KerasHub 0.32's ALBERT classes add to Keras'.

For each of ``AlbertBackbone``, ``AlbertMaskedLM``, ``AlbertTokenizer`` and
``AlbertMaskedLMPreprocessor``, the names without a leading underscore that
an instance loaded from a KerasHub preset has and a plain ``keras.Model()``
(or ``keras.layers.Layer()``) has not: methods, properties and the
attributes set in ``__init__``. ``tests/test_keras_hub_surface.py`` checks
that ours have every one of them, so the API cannot drift from KerasHub's
without a test failing.

Run from the repository root with KerasHub 0.32 installed::

    KERAS_BACKEND=tensorflow /work/refvenv/bin/python \\
        tools/golden_files/list_keras_hub_public_names.py

It rewrites ``tests/data/keras_hub/public_names.json``: ``{"keras_hub":
version, "names": {class name: [sorted names]}}``.
"""

import json
import pathlib

import keras
import keras_hub

ROOT = pathlib.Path(__file__).resolve().parents[2]
PRESET = ROOT / "tests" / "data" / "keras_hub" / "groups1_inner1"
OUTPUT = ROOT / "tests" / "data" / "keras_hub" / "public_names.json"


def added_names(instance, plain):
    """The public names of `instance` that `plain` lacks."""
    return sorted(
        name for name in set(dir(instance)) - set(dir(plain)) if name[0] != "_"
    )


def main():
    masked_lm = keras_hub.models.AlbertMaskedLM.from_preset(str(PRESET))
    preprocessor = masked_lm.preprocessor
    instances = {
        "AlbertBackbone": (masked_lm.backbone, keras.Model()),
        "AlbertMaskedLM": (masked_lm, keras.Model()),
        "AlbertTokenizer": (preprocessor.tokenizer, keras.layers.Layer()),
        "AlbertMaskedLMPreprocessor": (preprocessor, keras.layers.Layer()),
    }
    names = {
        name: added_names(instance, plain)
        for name, (instance, plain) in instances.items()
    }
    record = {"keras_hub": keras_hub.__version__, "names": names}
    OUTPUT.write_text(json.dumps(record, indent=1) + "\n")
    print(f"Wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
