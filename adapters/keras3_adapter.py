"""Keras 3 on the TensorFlow backend."""
from __future__ import annotations

from .keras_common import KerasAdapter


class Keras3Adapter(KerasAdapter):
    name = "keras"
    package = "keras"
    module = "keras"
    unsupported_layers = {
        # TRAPS.md 24: removed from Keras 3 (tf-keras keeps them).
        "LocallyConnected1D": "Keras 3 has no LocallyConnected1D (removed in Keras 3; tf-keras keeps it)",
        "LocallyConnected2D": "Keras 3 has no LocallyConnected2D (removed in Keras 3; tf-keras keeps it)",
    }

    def _variables(self, layer):
        # Keras 3 wraps each tf.Variable in a KerasVariable; the tape differentiates the wrapped one.
        return [w.value for w in layer.weights]


ADAPTER = Keras3Adapter()
