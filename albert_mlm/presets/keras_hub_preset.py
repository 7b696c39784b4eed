"""Reading KerasHub's preset directories (the format we also write).

>>> from albert_mlm import AlbertBackbone
>>> from albert_mlm.presets.loading import open_preset
>>> preset = open_preset("albert_tiny_en_uncased")
>>> type(preset).__name__, preset.backbone_arguments(AlbertBackbone)["num_layers"]
('KerasHubPreset', 4)
"""

import os

from albert_mlm.caller_warnings import warn_at_caller
from albert_mlm.presets import keras_hub_config as hub
from albert_mlm.presets.keras_hub_weights import load_keras_hub_weights
from albert_mlm.presets.preset_reader import PresetReader


class KerasHubPreset(PresetReader):
    """A KerasHub preset: JSON configs, `.weights.h5` files, `vocabulary.spm`."""

    @classmethod
    def matches(cls, directory, config):
        """Any directory: the format we write, asked after every other, whose
        own errors say what a preset lacks (`config.json`, a weights file)."""
        return True

    def _json(self, file_name, cls):
        serialized = hub.read_json(self.directory, file_name, self.name)
        return hub.unwrap(serialized, cls, f"{file_name} of preset {self.name!r}")

    def backbone_arguments(self, backbone_cls):
        if self.config is None:
            self.path(hub.CONFIG_FILE)  # Raises FileNotFoundError.
        source = f"config.json of preset {self.name!r}"
        if not isinstance(self.config, dict):
            raise ValueError(f"{source} is not a JSON object.")
        return hub.unwrap(self.config, backbone_cls, source)

    def tokenizer_arguments(self, tokenizer_cls):
        return self._json(hub.TOKENIZER_FILE, tokenizer_cls)

    def vocabulary_path(self):
        return self.path(hub.VOCABULARY_PATH)

    def preprocessor_arguments(self, preprocessor_cls):
        if not self.has(hub.PREPROCESSOR_FILE):
            return {}
        arguments = self._json(hub.PREPROCESSOR_FILE, preprocessor_cls)
        arguments.pop("tokenizer", None)
        return arguments

    def head_arguments(self, task_cls):
        if not self.has(hub.TASK_FILE):
            return {}
        arguments = self._json(hub.TASK_FILE, task_cls)
        for part in ("backbone", "preprocessor"):
            arguments.pop(part, None)
        return arguments

    def _backbone_weights(self):
        """`model.weights.h5`, or the index of KerasHub's sharded weights."""
        if not self.has(hub.BACKBONE_WEIGHTS_FILE) and self.has(
            hub.SHARDED_BACKBONE_WEIGHTS_FILE
        ):
            return self.path(hub.SHARDED_BACKBONE_WEIGHTS_FILE)
        return self.path(hub.BACKBONE_WEIGHTS_FILE)

    def load_backbone_weights(self, backbone):
        load_keras_hub_weights(backbone, self._backbone_weights())

    def load_task_weights(self, task):
        task_weights = os.path.join(self.directory, hub.TASK_WEIGHTS_FILE)
        if not os.path.isfile(task_weights):
            warn_at_caller(
                f"Preset {self.name!r} has no {hub.TASK_WEIGHTS_FILE}; the "
                "masked-LM head keeps its fresh random initialisation."
            )
            task_weights = None
        fresh = load_keras_hub_weights(task, self._backbone_weights(), task_weights)
        if fresh:
            warn_at_caller(
                f"Preset {self.name!r} has no weights for {' and '.join(fresh)}; "
                "it keeps its fresh random initialisation."
            )
