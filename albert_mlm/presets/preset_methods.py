"""`from_preset`, `save_to_preset` and `presets`, shared by the public classes."""

from albert_mlm.presets.registry import PRESETS_METADATA


class PresetMethods:
    """Mixin: preset loading and saving through the functions a class names.

    Each class sets `_load_preset` to its loader in `presets/loading.py`
    (which receives the class), `_save_preset` to its writer in
    `presets/saving.py` and `_export_transformers` to its exporter in
    `presets/transformers_export.py` (or `transformers_tokenizer_export.py`).
    """

    _load_preset = None
    _save_preset = None
    _export_transformers = None
    presets = PRESETS_METADATA

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Build from a built-in name, `kaggle://`/`hf://` handle or directory.

        Directories may hold a KerasHub preset or a transformers checkpoint;
        keyword arguments override the stored config.

        Example:
        >>> from albert_mlm import AlbertMaskedLM
        >>> masked_lm = AlbertMaskedLM.from_preset("albert_tiny_en_uncased",
        ...     sequence_length=64)
        >>> masked_lm.preprocessor.sequence_length
        64
        """
        return cls._load_preset(cls, preset, load_weights=load_weights, **kwargs)

    def save_to_preset(self, preset_dir):
        """Write a KerasHub-format preset directory (atomically)."""
        type(self)._save_preset(self, preset_dir)

    def export_to_transformers(self, path):
        """Write a Hugging Face transformers checkpoint folder (atomically):
        `AlbertModel`, `AlbertForMaskedLM` (with the tokenizer's files) or
        `AlbertForPreTraining`, or a tokenizer's files. See docs/formats.md.

        >>> import os, tempfile
        >>> from albert_mlm import AlbertTokenizer
        >>> directory = tempfile.mkdtemp()
        >>> AlbertTokenizer.from_preset("albert_tiny_en_uncased"
        ...     ).export_to_transformers(directory)
        >>> sorted(os.listdir(directory))
        ['spiece.model', 'tokenizer_config.json']
        """
        type(self)._export_transformers(self, path)
