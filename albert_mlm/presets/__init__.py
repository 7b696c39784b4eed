"""Reading and writing models in published formats (KerasHub, Hugging Face)."""
