"""Recurrent classes the Keras adapters build themselves: seed 003's MinimalRNNCell (written from the seed's
example for either Keras API) and RNN(cell or [cells]) from its canonical config."""
from __future__ import annotations

from typing import Callable


def minimal_rnn_cell(k, dot: Callable):
    """Seed 003's example cell as a real Layer subclass of the Keras module `k` (dot: K.dot or ops.matmul):
    output = inputs . kernel + states[0] . recurrent_kernel, both initialised 'uniform'."""
    class MinimalRNNCell(k.layers.Layer):
        def __init__(self, units, **kwargs):
            self.units = units
            self.state_size = units
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform",
                                          name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                    name="recurrent_kernel")
            self.built = True

        def call(self, inputs, states):
            prev_output = states[0]
            h = dot(inputs, self.kernel)
            output = h + dot(prev_output, self.recurrent_kernel)
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    # registered under its own name so that deserialize() finds it (a wrapper rebuilds its inner layer from its
    # config: Keras 3 Bidirectional makes its backward copy that way)
    register = getattr(getattr(k, "saving", None), "register_keras_serializable", None) or \
        k.utils.register_keras_serializable
    return register(package="conformance", name="MinimalRNNCell")(MinimalRNNCell)


def build_cell(adapter, k, config: dict, dtype: str):
    """A cell from its canonical config: MinimalRNNCell from the seed's code, the others from_config."""
    if config["class_name"] == "MinimalRNNCell":
        return adapter.minimal_cell_class()(config["config"]["units"], dtype=dtype)
    return getattr(k.layers, config["class_name"]).from_config({**adapter._translate(config), "dtype": dtype})


def build_rnn(adapter, k, config: dict, dtype: str):
    """RNN(cell or [cells], options...) built directly: the nested cells go through the adapter's translation."""
    cfg = dict(config["config"])
    cell = cfg.pop("cell")
    # a list of cells goes in a StackedRNNCells built here: the one RNN would build has the default float32
    # dtype and would cast a float64 run's inputs down
    cells = k.layers.StackedRNNCells([build_cell(adapter, k, c, dtype) for c in cell], dtype=dtype) \
        if isinstance(cell, list) else build_cell(adapter, k, cell, dtype)
    return k.layers.RNN(cells, **cfg, dtype=dtype)
