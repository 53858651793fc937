"""The registry of layers the oracle implements: one `Layer` per Keras class name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

Config = dict  # the inner, canonical config of one layer
Weights = list  # list[np.ndarray] in the documented get_weights() order


@dataclass(frozen=True)
class Layer:
    """How the oracle handles one Keras class.

    spec:            param -> (default, parser); defaults are the documented Keras 2.2.x ones.
    check:           cross-parameter validation of a parsed config (raises ValueError).
    output_shape:    (config, input_shape) -> output shape; validates the input shape (raises ValueError).
    weight_shapes:   (config, input_shape) -> shapes in get_weights() order.
    forward:         (config, weights, x) -> y, float64.
    vjp:             (config, weights, x, g) -> (grad_x, [grad_w...]), analytic; None = finite differences.
    split_activation: config -> (config of the part before the activation or None for identity, activation name).
                     The tolerance policy bounds the linear part by reduction length and magnitude and carries
                     the bound through the activation.
    selects:         the linear part picks input elements instead of summing them (max pooling). Its absolute-term
                     magnitudes are then taken at the real input (the same elements picked) rather than at |x|,
                     whose largest elements sit elsewhere.
    reductions:      (config, input_shape) -> {"output": n, "input": n, "weight0": n, ...}: the number of terms
                     summed for each element of the output and of each gradient.
    magnitude:       (config, |x|) -> the absolute terms each output element's rounding scales with, for a layer
                     whose backends also compute their coefficients (interpolation weights) and so round more than
                     the linear part at |x| shows; None = the linear part at |x| and |weights|.
    vjp_magnitude:   (config, |g|) -> the same for each element of the input gradient; None = the VJP at |g|.
    resolve:         config -> config with the defaults that depend on other parameters filled in, as the
                     layer's get_config() reports them (pooling strides=None -> pool_size), so that two configs
                     of the same layer have one canonical form.
    magnitude_at_input: `magnitude` / `vjp_magnitude` are called as (config, x) / (config, x, g) with the real,
                     signed arrays: for layers whose rounding depends on cancellation (Lambda's antirectifier
                     centres its input), which |x| cannot show.
    compute_mask:    (config, x, incoming mask or None) -> the mask the layer passes on (Masking); None = the
                     incoming mask passes through unchanged, as Keras does for a layer that supports masking.
    weight_params:   config -> the parameter prefix of each weight in get_weights() order ('kernel', 'bias',
                     'gamma' ...), the weight `<prefix>_initializer/_regularizer/_constraint` act on; None = the
                     default of oracle/weight_parameters.py (depthwise, pointwise, kernel, recurrent, bias if use_bias).
    multi_input:     True: the layer takes a list of inputs (the merge layers, the recurrent cells' [x, *states]);
                     "optional": a list input is allowed and means [x, *initial states] (the recurrent layers'
                     Keras 2.2.x call form RNN([x, h0, c0])), a single array is the plain call.
                     With a list input, `input_shape` is a list of shapes
                     and x a list of arrays everywhere above; output_shape also checks the number of inputs;
                     vjp returns ([grad of each input], [grad_w...]); reductions names "input0", "input1" ... for
                     the gradient of each input; magnitude gets the list of |x| and vjp_magnitude is
                     (config, [|x|...], |g|) -> [magnitude of each input's gradient].
    multi_output:    config -> whether the layer returns a list of outputs (return_state, Bidirectional
                     merge_mode=None, the cells' [output, *new states]); then forward returns a list, output_shape a
                     list of shapes, and vjp takes a list of cotangents, one per output.
    uses_mask:       forward / vjp / train take a keyword `mask` (a boolean (batch, timesteps) array or None): the
                     recurrent layers, which carry their states over masked steps (oracle/recurrent.py).
    abs_forward:     (config, |weights|, |x|) -> the absolute terms of each output element, for a layer whose formula
                     subtracts one input from another (BatchNormalization's x - mean), where the linear part at
                     |x| and |weights| would cancel; None = the linear part at |x| and |weights|.
    abs_vjp:         (config, |weights|, |x|, |g|) -> (input, [weight]) absolute terms of the VJP, likewise.
    train:           (config, weights, x, rng) -> (output, weights after the step) in training mode; rng is an
                     np.random.Generator for the stochastic layers. None = training mode is inference mode.
    train_vjp:       (config, weights, x, g) -> (grad_x, [grad_w...]) of the training-mode output, for a layer
                     whose training mode is deterministic (BatchNormalization). None for stochastic layers.
    stochastic:      training mode draws random numbers: conformance there is statistical (suites/stochastic.py).
    index_input:     config -> whether the input holds integer indices (Embedding): it has no gradient (the VJP
                     returns zeros for it) and cannot be perturbed (finite differences move only the weights).
    error_model:     which rule of the tolerance policy bounds the layer's rounding (suites/tolerance.py dispatches on
                     it; one of ERROR_MODELS): "affine" (the default: a linear part of `reductions` terms per element,
                     measured by `magnitude` / `abs_forward` or the linear part at |x|, then `split_activation`'s
                     activation), "batch_statistics" (affine in inference with `abs_forward`; in training mode the
                     batch moments are reduced over the batch, suites/tolerance.batch_norm_training_bounds),
                     "program" (the layer is `program`, run in the bounded algebra: every operation rounds once)
                     and "wrapped" (the wrapped layer's own model on the batch x time merged axis: TimeDistributed).
    program:         (alg, cfg, weights, inputs, mask, dropout) -> [outputs]: the recurrent layers written once over
                     the algebra of oracle/sequence_ops.py (oracle/recurrent.py); required by error_model "program".
    dropout_draw:    (cfg, rng, [input shapes]) -> the dropout masks a program's training mode draws once per call
                     (None: its training mode draws nothing); Bidirectional draws one per copy through it.
    state:           config -> indices (get_weights order) of non-trainable state that `train` updates
                     (BatchNormalization's moving statistics). No backend differentiates them, so gradient checks
                     skip them; the oracle's VJP still includes them (checked by finite differences).
    """
    name: str
    family: str
    spec: Mapping[str, tuple[Any, Callable]]
    forward: Callable[[Config, Weights, np.ndarray], np.ndarray]
    output_shape: Callable[[Config, tuple], tuple]
    weight_shapes: Callable[[Config, tuple], list]
    split_activation: Callable[[Config], tuple]
    reductions: Callable[[Config, tuple], dict]
    vjp: Callable | None = None
    check: Callable[[str, Config], None] = lambda name, cfg: None
    selects: bool = False
    magnitude: Callable | None = None
    vjp_magnitude: Callable | None = None
    resolve: Callable[[Config], Config] = lambda cfg: cfg
    magnitude_at_input: bool = False
    compute_mask: Callable | None = None
    multi_input: bool | str = False
    multi_output: Callable[[Config], bool] = lambda cfg: False
    uses_mask: bool = False
    abs_forward: Callable | None = None
    abs_vjp: Callable | None = None
    train: Callable | None = None
    train_vjp: Callable | None = None
    stochastic: bool = False
    state: Callable[[Config], tuple] = lambda cfg: ()
    weight_params: Callable[[Config], list] | None = None
    index_input: Callable[[Config], bool] = lambda cfg: False
    error_model: str = "affine"
    program: Callable | None = None
    dropout_draw: Callable | None = None

    def __post_init__(self):
        if self.error_model not in ERROR_MODELS:
            raise ValueError(f"layer {self.name!r}: error_model={self.error_model!r} is not allowed: expected one "
                             f"of {', '.join(ERROR_MODELS)}")
        if (self.error_model == "program") != (self.program is not None):
            raise ValueError(f"layer {self.name!r}: a program layer (and only one) has error_model='program'")


# The rules of the tolerance policy (suites/tolerance.py), one per kind of computation.
ERROR_MODELS = ("affine", "batch_statistics", "program", "wrapped")


LAYERS: dict[str, Layer] = {}


def programs() -> list[str]:
    """The layers the oracle runs as programs (the recurrent layers, their cells, Bidirectional), sorted."""
    return sorted(name for name, layer in LAYERS.items() if layer.program is not None)


def register(layer: Layer) -> Layer:
    """Add a layer under its Keras class name; a name is registered once."""
    if layer.name in LAYERS:
        raise ValueError(f"layer {layer.name!r} registered twice")
    LAYERS[layer.name] = layer
    return layer
