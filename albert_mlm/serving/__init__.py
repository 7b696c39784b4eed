"""Serving a trained model outside Keras: a TensorFlow SavedModel that takes strings."""
