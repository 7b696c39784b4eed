"""Pretraining from raw text: vocabulary, streaming corpus, training, evaluation."""
