"""What every checkpoint-format reader offers the preset loaders.

A reader wraps one resolved preset directory in one format
(`KerasHubPreset`, `TransformersCheckpoint`); `loading.open_preset` picks the
format once, asking each class of `loading.PRESET_READERS` in turn whether it
`matches` the directory and its `config.json`. The loaders then ask the
reader, in the same words whatever the format, for constructor arguments and
weights. A new format is one new subclass, listed in `PRESET_READERS` ahead
of `KerasHubPreset` (which reads any directory).

>>> from albert_mlm.presets.loading import PRESET_READERS
>>> [reader.__name__ for reader in PRESET_READERS]
['TransformersCheckpoint', 'KerasHubPreset']
"""

import os


class PresetReader:
    """A preset directory in one checkpoint format.

    Args:
        name: the preset as the user gave it, for messages.
        directory: the local directory it resolved to.
        config: the parsed `config.json`.
    """

    def __init__(self, name, directory, config):
        self.name = name
        self.directory = directory
        self.config = config

    def path(self, file_name):
        """The path of `file_name` in the preset; `FileNotFoundError` if absent."""
        path = os.path.join(self.directory, file_name)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Preset {self.name!r} has no {file_name} (looked in {path!r})."
            )
        return path

    def has(self, file_name):
        return os.path.isfile(os.path.join(self.directory, file_name))

    # === What each format answers ===

    @classmethod
    def matches(cls, directory, config):
        """Whether the preset in `directory` is in this format, from its files
        and `config`, its parsed `config.json` (None where there is none)."""
        raise NotImplementedError

    def backbone_arguments(self, backbone_cls):
        """Constructor arguments of the backbone."""
        raise NotImplementedError

    def tokenizer_arguments(self, tokenizer_cls):
        """Constructor arguments of the tokenizer, its vocabulary aside."""
        raise NotImplementedError

    def vocabulary_path(self):
        """The SentencePiece model file."""
        raise NotImplementedError

    def preprocessor_arguments(self, preprocessor_cls):
        """Constructor arguments of the preprocessor, its tokenizer aside."""
        raise NotImplementedError

    def head_arguments(self, task_cls):
        """Constructor arguments of the task, its backbone and preprocessor aside."""
        raise NotImplementedError

    def load_backbone_weights(self, backbone):
        """Fill `backbone`; every array is checked before any is assigned."""
        raise NotImplementedError

    def load_task_weights(self, task):
        """Fill `task` (backbone and head); parts the preset lacks keep their
        initialisation, with a `UserWarning` naming them."""
        raise NotImplementedError
