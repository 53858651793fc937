"""PyTorch: the one table of the layers the torch adapter maps, class name -> Layer record.

A record holds the layer's forward function (torch, cfg, x, ws) -> y, and where it has them: its training-mode
function (torch, cfg, x, ws) -> (y, weights after the call) (inference otherwise serves training too), its mask
function (torch, cfg, x) -> the mask it passes on, or None, and its weight layout (ops.WeightLayout: the layout
initial weights are drawn in and the fan rule; torch's own by default). A recurrent record's forward takes the
call's mask and training flag too: (torch, cfg, x, ws, mask=None, training=False).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from . import (advanced_activations as act, conv_recurrent, convolution as conv, dense_core as core,
               embedding_wrappers as emb, merge, normalization_noise as noise, pooling, recurrent, reshaping)
from .ops import KERAS_LAYOUT, TORCH_LAYOUT, WeightLayout


@dataclass(frozen=True)
class Layer:
    forward: Callable
    training: Optional[Callable] = None   # training-mode forward: (y, weights after the call)
    mask: Optional[Callable] = None       # the mask the layer passes on
    layout: WeightLayout = TORCH_LAYOUT   # initial weights: layout and fans
    recurrent: bool = False               # forward takes mask= and training=


def _forward_of(name):
    """The forward function of `name`, looked up at call time (TimeDistributed wraps any layer of the table)."""
    return LAYERS[name].forward


def _time_distributed(torch, cfg, x, ws):
    return emb.time_distributed(_forward_of, torch, cfg, x, ws)


LAYERS: dict[str, Layer] = {
    # core
    "Dense": Layer(core.dense),
    "Activation": Layer(core.activation_layer),
    "Flatten": Layer(core.flatten),
    "ActivityRegularization": Layer(core.activity_regularization),
    "Lambda": Layer(core.lambda_layer),
    "Reshape": Layer(core.reshape),
    "Permute": Layer(core.permute),
    "RepeatVector": Layer(core.repeat_vector),
    "Masking": Layer(core.masking, mask=core.masking_mask),
    # convolution, separable, locally_connected
    "Conv1D": Layer(conv.conv), "Conv2D": Layer(conv.conv), "Conv3D": Layer(conv.conv),
    "Conv2DTranspose": Layer(conv.conv_transpose), "Conv3DTranspose": Layer(conv.conv_transpose),
    "DepthwiseConv2D": Layer(conv.depthwise),
    "SeparableConv1D": Layer(conv.separable), "SeparableConv2D": Layer(conv.separable),
    # torch has no locally connected layer: Keras layout, Keras's fans
    "LocallyConnected1D": Layer(conv.locally_connected, layout=KERAS_LAYOUT),
    "LocallyConnected2D": Layer(conv.locally_connected, layout=KERAS_LAYOUT),
    # pooling
    **{f"{prefix}{kind}Pooling{rank}D": Layer((pooling.global_pool if prefix else pooling.window_pool)(mode))
       for prefix in ("", "Global") for kind, mode in (("Max", "max"), ("Average", "avg")) for rank in (1, 2, 3)},
    # reshaping
    **{f"Cropping{r}D": Layer(reshaping.crop) for r in (1, 2, 3)},
    **{f"ZeroPadding{r}D": Layer(reshaping.zero_pad) for r in (1, 2, 3)},
    **{f"UpSampling{r}D": Layer(reshaping.upsample) for r in (1, 2, 3)},
    # advanced_activations
    "LeakyReLU": Layer(act.leaky_relu),
    "ELU": Layer(act.elu),
    "ThresholdedReLU": Layer(act.thresholded_relu),
    "Softmax": Layer(act.softmax),
    "ReLU": Layer(act.relu),
    "PReLU": Layer(act.prelu),
    # merge
    "Add": Layer(merge.add), "Subtract": Layer(merge.subtract), "Multiply": Layer(merge.multiply),
    "Average": Layer(merge.average), "Maximum": Layer(merge.maximum), "Concatenate": Layer(merge.concatenate),
    "Dot": Layer(merge.dot),
    # noise (the identity in inference mode), normalization
    "Dropout": Layer(noise.identity, training=noise.dropout_train),
    "SpatialDropout1D": Layer(noise.identity, training=noise.spatial_dropout_train),
    "SpatialDropout2D": Layer(noise.identity, training=noise.spatial_dropout_train),
    "SpatialDropout3D": Layer(noise.identity, training=noise.spatial_dropout_train),
    "GaussianNoise": Layer(noise.identity, training=noise.gaussian_noise_train),
    "GaussianDropout": Layer(noise.identity, training=noise.gaussian_dropout_train),
    "AlphaDropout": Layer(noise.identity, training=noise.alpha_dropout_train),
    "BatchNormalization": Layer(noise.batch_norm, training=noise.batch_norm_train),
    # embeddings, wrappers (Bidirectional: recurrent.py)
    "Embedding": Layer(emb.embedding, mask=emb.embedding_mask),
    "TimeDistributed": Layer(_time_distributed),
    # recurrent, convolutional_recurrent
    **{name: Layer(recurrent.recurrent_row(name), recurrent=True)
       for name in (*recurrent.LAYER_NAMES, *recurrent.CELL_NAMES)},
    "ConvLSTM2D": Layer(conv_recurrent.conv_lstm, recurrent=True),
}
