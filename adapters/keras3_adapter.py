"""Keras 3 on the TensorFlow backend."""
from __future__ import annotations

from .keras_common import KerasAdapter


class Keras3Adapter(KerasAdapter):
    name = "keras"
    package = "keras"
    module = "keras"

    def _variables(self, layer):
        # Keras 3 wraps each tf.Variable in a KerasVariable; the tape differentiates the wrapped one.
        return [w.value for w in layer.weights]


ADAPTER = Keras3Adapter()
