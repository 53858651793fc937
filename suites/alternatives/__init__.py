"""Alternative semantics that known-divergence entries name (`semantics = "name"` or a list of names).

Each is a `Truth` (suites/truth.py): what a backend computes instead of the documented layer, written as a change
to the oracle's own evaluation (a parameter the backend rounds, another activation, its order of states, its
moving-variance formula ...). A mismatch is excused only when the backend agrees with the alternative within the
normal bound of the same check (`checks.run` re-runs the check on the backend's recorded answers), so a planted
bug that merely happens to fall under an entry's condition stays a failure.

A list of names composes: each later name wraps the earlier ones, so its reconfiguration reaches them too.
"""
from __future__ import annotations

from ..truth import DOCUMENTED, Truth
from .base import Derived
from .layers import (Float32Arithmetic, HalfPixelCentres, Keras3HardSigmoid, KerasReLU, SlopeFloat32,
                     StatesInCellOrder, ZerosAtMaskedSteps)
from .weights import (BatchMeanActivityLoss, BiasedMovingVariance, ConstantFloat32, KerasVarianceScaling,
                      MomentumFloat32, NoActivityLoss, RegularizerFactorsFloat32, TfKerasMovingVariance, TorchDepthwiseFans,
                      TorchEmbeddingFans, UnbiasedMovingVariance)

SEMANTICS: dict[str, type[Derived]] = {
    "half_pixel_centres": HalfPixelCentres, "float32_arithmetic": Float32Arithmetic,
    "slope_float32": SlopeFloat32, "keras_relu": KerasReLU, "keras3_hard_sigmoid": Keras3HardSigmoid,
    "zeros_at_masked_steps": ZerosAtMaskedSteps, "states_in_cell_order": StatesInCellOrder,
    "biased_moving_variance": BiasedMovingVariance, "unbiased_moving_variance": UnbiasedMovingVariance,
    "tf_keras_moving_variance": TfKerasMovingVariance, "momentum_float32": MomentumFloat32, "batch_mean_activity_loss": BatchMeanActivityLoss,
    "no_activity_loss": NoActivityLoss,
    "regularizer_factors_float32": RegularizerFactorsFloat32, "keras_variance_scaling": KerasVarianceScaling,
    "constant_float32": ConstantFloat32, "torch_embedding_fans": TorchEmbeddingFans,
    "torch_depthwise_fans": TorchDepthwiseFans,
}


def truth(names) -> Truth:
    """The Truth of one name or a list of names (each later one wraps the earlier ones)."""
    t: Truth = DOCUMENTED
    for name in [names] if isinstance(names, str) else names:
        if name not in SEMANTICS:
            raise ValueError(f"semantics={name!r} is not allowed: expected one of {', '.join(SEMANTICS)}")
        t = SEMANTICS[name](t)
    return t
