"""The named conditions of known-divergence entries (`condition = "name"`): what per-key value lists (`when`)
cannot say. CONDITIONS take the canonical config (raw configs in the invalid-config suite); SHAPE_CONDITIONS
also take the case's input shape(s). suites/divergences.py loads entries against these names."""
from __future__ import annotations

import numpy as np


def _spans(cfg: dict) -> list[int]:
    """The dilated kernel extent (k-1)*d + 1 per axis."""
    dilation = cfg.get("dilation_rate") or (1,) * len(cfg["kernel_size"])
    return [(k - 1) * d + 1 for k, d in zip(cfg["kernel_size"], dilation)]


# Conditions across parameters that per-key value lists cannot express; an entry names one with `condition`.
CONDITIONS = {
    "unequal_strides": lambda cfg: len(set(cfg["strides"])) > 1,
    "unequal_dilation": lambda cfg: len(set(cfg["dilation_rate"])) > 1,
    "dilated": lambda cfg: any(d > 1 for d in cfg["dilation_rate"]),
    # a stride longer than the window: 'same' padding's total max(..., 0) clamps a negative value
    "stride_exceeds_kernel_extent": lambda cfg: any(s > e for s, e in zip(cfg["strides"], _spans(cfg))),
    "stride_exceeds_pool": lambda cfg: any(s > p for s, p in zip(cfg["strides"] or cfg["pool_size"],
                                                                    cfg["pool_size"])),
    # an axis whose dilated kernel extent is even while its output_padding is 0
    "even_span_without_output_padding": lambda cfg: cfg["output_padding"] is not None and any(
        e % 2 == 0 and op == 0 for e, op in zip(_spans(cfg), cfg["output_padding"])),
    # advanced activations: a slope TF passes as a float32 attribute (tf.nn.leaky_relu), which rounds it in
    # float64 runs, on LeakyReLU and on ReLU's leaky path (no max_value, threshold 0)
    "slope_not_float32": lambda cfg: _not_float32(cfg["alpha"]) if "alpha" in cfg else (
        cfg["max_value"] is None and cfg["threshold"] == 0.0 and _not_float32(cfg["negative_slope"])),
    # tf-keras also rounds ReLU's slope to float32 off the leaky path (threshold or max_value set)
    "relu_slope_not_float32": lambda cfg: _not_float32(cfg["negative_slope"]),
    # some float parameter of the config is not a float32 number (a backend that stores it in float32 changes it)
    "float_param_not_float32": lambda cfg: any(isinstance(v, float) and _not_float32(v) for v in cfg.values()),
    "negative_threshold": lambda cfg: cfg["threshold"] < 0,
    "positive_threshold": lambda cfg: cfg["threshold"] > 0,
    "negative_alpha": lambda cfg: cfg.get("alpha", 0.3) < 0,
    # ReLU with a threshold above max_value: x in [max_value, threshold) (seed 003: max_value) is reachable
    "threshold_above_max_value": lambda cfg: cfg["max_value"] is not None and cfg["threshold"] > cfg["max_value"],
    # weight parameters (canonical initializer / regularizer / constraint dicts)
    "variance_scaling_normal": lambda cfg: any(_is(v, "VarianceScaling") and v["config"]["distribution"] == "normal"
                                               for k, v in cfg.items() if k.endswith("_initializer")),
    # a variance-scaling initializer on a weight that is (or, for PReLU's alpha, can be) a vector
    "vector_variance_scaling": lambda cfg: any(_is(cfg.get(f"{p}_initializer"), "VarianceScaling") for p in (
        "bias", "gamma", "beta", "moving_mean", "moving_variance", "alpha")),
    "depthwise_variance_scaling": lambda cfg: _is(cfg.get("depthwise_initializer"), "VarianceScaling"),
    "depthwise_orthogonal": lambda cfg: _is(cfg.get("depthwise_initializer"), "Orthogonal"),
    "identity_initializer": lambda cfg: any(_is(v, "Identity") for k, v in cfg.items() if k.endswith("_initializer")),
    # a Constant initializer whose value float32 cannot hold exactly
    "constant_initializer_not_float32": lambda cfg: any(
        _is(v, "Constant") and _not_float32(float(v["config"].get("value", 0.0)))
        for k, v in cfg.items() if k.endswith("_initializer")),
    "activity_regularized": lambda cfg: cfg.get("activity_regularizer") is not None or "l1" in cfg,
    # a regularization factor that float32 cannot hold exactly (the default 0.01 of 'l1', 'l2', 'l1_l2')
    # (ActivityRegularization's own l1 / l2 are factors too)
    "regularizer_factor_not_float32": lambda cfg: any(
        _is(v, "L1L2") and any(float(np.float32(f)) != f for f in v["config"].values()) for v in cfg.values()) or any(
        isinstance(cfg.get(k), float) and float(np.float32(cfg[k])) != cfg[k] for k in ("l1", "l2")),
    # ActivityRegularization given None or a bool as a factor (a raw config: invalid configs are not canonical)
    "factor_none_or_bool": lambda cfg: any(k in cfg and (cfg[k] is None or isinstance(cfg[k], bool))
                                           for k in ("l1", "l2")),
    "non_neg_constraint": lambda cfg: any(_is(v, "NonNeg") for k, v in cfg.items() if k.endswith("_constraint")),
    # a noise_shape with a None entry (= that axis of the input)
    "noise_shape_has_none": lambda cfg: cfg.get("noise_shape") is not None and None in cfg["noise_shape"],
    # Embedding with output_dim=0 (seed 003: "int >= 0"), itself or wrapped in TimeDistributed
    "embedding_output_dim_zero": lambda cfg: _embedding_config(cfg).get("output_dim") == 0,
    # Embedding given a mask_zero that is not a bool (raw configs: the invalid-config suite)
    "embedding_mask_zero_not_bool": lambda cfg: not isinstance(_embedding_config(cfg).get("mask_zero", False), bool),
    # Embedding with an input_length (raw configs too: the invalid-config suite matches those)
    "embedding_input_length": lambda cfg: _embedding_config(cfg).get("input_length") is not None,
    # a variance-scaling initializer of Embedding whose mode reads one fan (fan_in / fan_out, not fan_avg)
    "embeddings_one_fan_variance_scaling": lambda cfg: _is(cfg.get("embeddings_initializer"), "VarianceScaling")
    and cfg["embeddings_initializer"]["config"]["mode"] != "fan_avg",
    # hard_sigmoid as activation or recurrent_activation, anywhere in the config (an RNN's cells, a wrapped layer)
    "uses_hard_sigmoid": lambda cfg: _uses(cfg, "hard_sigmoid"),
    # RNN over a list of cells of which one carries two states (LSTMCell)
    "stacked_two_state_cell": lambda cfg: isinstance(cfg.get("cell"), list) and any(
        c.get("class_name") == "LSTMCell" for c in cfg["cell"]),
    # a wrapper (Bidirectional) whose inner recurrent layer returns sequences, unrolled or not
    "wrapped_return_sequences_not_unrolled": lambda cfg: bool(cfg.get("layer", {}).get("config", {}).get(
        "return_sequences")) and not cfg.get("layer", {}).get("config", {}).get("unroll"),
    "wrapped_return_sequences_unrolled": lambda cfg: bool(cfg.get("layer", {}).get("config", {}).get(
        "return_sequences")) and bool(cfg.get("layer", {}).get("config", {}).get("unroll")),
    "wrapped_go_backwards": lambda cfg: bool(cfg.get("layer", {}).get("config", {}).get("go_backwards")),
    # recurrent `implementation` (a computation mode: 2.2.x kept the value given): tf-keras rewrites 2 to 1 when
    # recurrent_dropout is set; Keras 3's get_config omits it (a copy runs its default 2, 1 with recurrent_dropout)
    # (an RNN: any of its GRU / LSTM cells)
    "implementation_2_with_recurrent_dropout": lambda cfg: any(
        c.get("implementation") == 2 and c.get("recurrent_dropout", 0) > 0 for c in _gated(cfg)),
    "implementation_not_serialized": lambda cfg: any(
        c.get("implementation") == 2 or c.get("recurrent_dropout") == 0 for c in _gated(cfg)),
    "wrapped_stateful_return_state": lambda cfg: bool(cfg.get("layer", {}).get("config", {}).get("stateful")) and
    bool(cfg.get("layer", {}).get("config", {}).get("return_state")),
}


def _gated(cfg: dict) -> list[dict]:
    """The configs that carry `implementation`: the layer's own, or an RNN's GRUCell / LSTMCell cells'."""
    if "cell" not in cfg:
        return [cfg] if "implementation" in cfg else []
    cells = cfg["cell"] if isinstance(cfg["cell"], list) else [cfg["cell"]]
    return [c["config"] for c in cells if isinstance(c, dict) and c.get("class_name") in ("GRUCell", "LSTMCell")]


def _embedding_config(cfg: dict) -> dict:
    """An Embedding's config, or the config of the Embedding a TimeDistributed wraps ({} otherwise)."""
    inner = cfg.get("layer")
    if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
        return inner["config"] if inner.get("class_name") == "Embedding" else {}
    return cfg


def _uses(cfg, activation: str) -> bool:
    """Whether `activation` is an activation or recurrent_activation of the config or of a nested config."""
    if isinstance(cfg, dict):
        return any(v == activation if k in ("activation", "recurrent_activation") else _uses(v, activation)
                   for k, v in cfg.items())
    return isinstance(cfg, list) and any(_uses(v, activation) for v in cfg)


def _not_float32(value: float) -> bool:
    return float(np.float32(value)) != value


def _is(value, class_name: str) -> bool:
    """Whether a canonical config value is an object of that class."""
    return isinstance(value, dict) and value.get("class_name") == class_name


def _ops_add_misplaces_a_broadcast_operand(cfg: dict, shapes) -> bool:
    """Keras 3's TensorFlow ops.add(x1, x2) takes x2 for a bias (tf.nn.bias_add) when x2 has one size > 1 and that
    size equals x1's axis-1 or last size, and adds it along x1's last axis (axis 1 if only that one matches),
    wherever x2's own axis is. Add and Average fold add(output, x_i) over the inputs, aligned to one rank by
    size-1 axes after the batch axis; true when some x_i goes through that path on the wrong axis."""
    if not shapes or not isinstance(shapes[0], (list, tuple)):
        return False
    rank = max(len(s) for s in shapes)
    aligned = [tuple(s[:1]) + (1,) * (rank - len(s)) + tuple(s[1:]) for s in shapes]
    running = aligned[0]
    for s in aligned[1:]:
        big = [i for i, n in enumerate(s) if n > 1]
        if rank > 1 and len(big) == 1 and s[big[0]] in (running[1], running[-1]):
            if big[0] != (rank - 1 if running[-1] == s[big[0]] else 1):
                return True
        running = tuple(max(a, b) for a, b in zip(running, s))
    return False


# Conditions on the canonical config and the case's input shape(s), for what the config alone cannot say.
SHAPE_CONDITIONS = {
    "a_list_of_one_input": lambda cfg, shapes: len(shapes) == 1 and isinstance(shapes[0], (list, tuple)),
    "ops_add_misplaces_a_broadcast_operand": _ops_add_misplaces_a_broadcast_operand,
}


# Invalid configs (raw configs: the invalid-config suite matches those, with the drawn parameter)
def _spatial(cfg: dict, shape, n: int) -> list:
    return list(shape[-n:]) if cfg.get("data_format") == "channels_first" else list(shape[-1 - n:-1])


def _per_axis(v, n: int, default) -> list:
    v = default if v is None else v
    return [v] * n if isinstance(v, int) else list(v)


def _kernel_one_longer(cfg: dict, shape, n: int) -> bool:
    """padding 'valid' and some dilated kernel extent exactly one longer than the input, none longer (the output
    length is 0 there; one longer still and the backend raises)."""
    if cfg.get("padding", "valid") != "valid" or not shape or isinstance(shape[0], (list, tuple)):
        return False
    spans = [(k - 1) * d + 1 for k, d in zip(_per_axis(cfg["kernel_size"], n, 1),
                                             _per_axis(cfg.get("dilation_rate"), n, 1))]
    sizes = _spatial(cfg, shape, n)
    return any(e == s + 1 for e, s in zip(spans, sizes)) and all(e <= s + 1 for e, s in zip(spans, sizes))


SHAPE_CONDITIONS["conv_kernel_one_longer_than_input"] = lambda cfg, shape: _kernel_one_longer(
    cfg, shape, len(shape) - 2)
SHAPE_CONDITIONS["conv_lstm_kernel_one_longer_than_input"] = lambda cfg, shape: _kernel_one_longer(cfg, shape, 2)
SHAPE_CONDITIONS["pool_exceeds_input"] = lambda cfg, shape: cfg.get("padding", "valid") == "valid" and any(
    p > s for p, s in zip(_per_axis(cfg.get("pool_size"), len(shape) - 2, 2), _spatial(cfg, shape, len(shape) - 2)))
SHAPE_CONDITIONS["input_rank_below_3"] = lambda cfg, shape: bool(shape) and not isinstance(
    shape[0], (list, tuple)) and len(shape) < 3
CONDITIONS["initializer_none"] = lambda cfg: any(k.endswith("_initializer") and cfg[k] is None for k in cfg)
CONDITIONS["negative_stddev"] = lambda cfg: isinstance(cfg.get("stddev"), (int, float)) and not isinstance(
    cfg["stddev"], bool) and cfg["stddev"] < 0


# RNN over stacked cells (cell=[...]): Keras 2.2.x keeps their states as one flat list in reverse cell order
# (oracle/gated.py); a single-state lone cell is the only stack whose order cannot show.
def _stack_states(cfg: dict) -> list[int]:
    cells = cfg.get("cell")
    return [2 if c["class_name"] == "LSTMCell" else 1 for c in cells] if isinstance(cells, list) else []


CONDITIONS["stacked_cells_return_state"] = lambda cfg: len(_stack_states(cfg)) > 1 and cfg["return_state"]
CONDITIONS["stacked_cells"] = lambda cfg: bool(_stack_states(cfg))
# Bidirectional around RNN(stacked cells, return_state=True): each direction's final states show their order
CONDITIONS["wrapped_stacked_cells_return_state"] = lambda cfg: (
    isinstance(cfg.get("layer"), dict) and cfg["layer"].get("class_name") == "RNN"
    and CONDITIONS["stacked_cells_return_state"](cfg["layer"]["config"]))
# the order of a stack's states shows: several final states returned, or a flat initial-state list given
SHAPE_CONDITIONS["stacked_cells_order_shows"] = lambda cfg, shapes: (
    CONDITIONS["stacked_cells_return_state"](cfg) or SHAPE_CONDITIONS["stacked_cells_initial_state"](cfg, shapes))
# ReLU's float32 slope off the leaky path, where the layer follows the documented formula (threshold <= max_value:
# above it, tf-keras's formula itself differs and tf-keras-relu-threshold-above-max-value models both)
CONDITIONS["relu_slope_not_float32_below_max"] = lambda cfg: (
    CONDITIONS["relu_slope_not_float32"](cfg) and not CONDITIONS["threshold_above_max_value"](cfg))
# a VarianceScaling initializer that tf-keras / Keras 3 draw otherwise: a truncated normal, or on a 1-D weight
CONDITIONS["keras_variance_scaling_differs"] = lambda cfg: (
    CONDITIONS["variance_scaling_normal"](cfg) or CONDITIONS["vector_variance_scaling"](cfg))
# both at once in one layer (a GRU with a Constant recurrent and a lecun_uniform bias): one case shows both rules
CONDITIONS["constant_not_float32_and_keras_variance_scaling"] = lambda cfg: (
    CONDITIONS["constant_initializer_not_float32"](cfg) and CONDITIONS["keras_variance_scaling_differs"](cfg))


def _batch(shapes) -> int:
    first = shapes[0] if shapes and isinstance(shapes[0], (list, tuple)) else shapes
    return int(first[0]) if first else 0


# an activity loss over a batch of more than one (a batch-mean loss equals the documented sum at batch size 1)
SHAPE_CONDITIONS["activity_regularized_batch_above_one"] = lambda cfg, shapes: (
    CONDITIONS["activity_regularized"](cfg) and _batch(shapes) > 1)
SHAPE_CONDITIONS["stacked_cells_initial_state"] = lambda cfg, shapes: (
    _stack_states(cfg) not in ([], [1]) and isinstance(shapes[0], (list, tuple)))



def _recurrent_cells(cfg: dict) -> list[dict]:
    """The configs holding dropout rates: a recurrent layer's own, or each cell's of RNN(cell or [cells])."""
    cell = cfg.get("cell")
    if cell is None:
        return [cfg]
    return [c["config"] for c in (cell if isinstance(cell, list) else [cell])]


# training-mode recurrent dropout (the 'dropout' check, suites/recurrent_dropout.py)
CONDITIONS["dropout_rate_one"] = lambda cfg: any(
    c.get("dropout") == 1.0 or c.get("recurrent_dropout") == 1.0 for c in _recurrent_cells(cfg))
CONDITIONS["input_dropout_only"] = lambda cfg: cfg["dropout"] > 0 and cfg["recurrent_dropout"] == 0
# tf-keras GRU / LSTM take their fused ("GPU kernel") path for exactly these settings, on every device
CONDITIONS["fused_kernel_input_dropout"] = lambda cfg: (
    0 < cfg["dropout"] < 1 and cfg["recurrent_dropout"] == 0 and cfg["activation"] == "tanh"
    and cfg["recurrent_activation"] == "sigmoid" and cfg["use_bias"] and not cfg["unroll"]
    and cfg.get("reset_after", True))
