"""The Keras 2 API from the tf-keras package (the closest living relative of Keras 2.2.x)."""
from __future__ import annotations

from .keras_common import KerasAdapter


class TfKerasAdapter(KerasAdapter):
    name = "tf_keras"
    package = "tf_keras"
    module = "tf_keras"


ADAPTER = TfKerasAdapter()
