"""PyTorch, family convolutional_recurrent: ConvLSTM2D. recurrent.py runs it under Bidirectional and statefully."""
from __future__ import annotations

from .ops import activation, keras_pads


def _conv_lstm_pre(torch, x, kernel, bias, strides, dilation, padding):
    """F.conv2d of an NCHW step input with a Keras (kh, kw, in, out) kernel under Keras padding."""
    F = torch.nn.functional
    pads = [keras_pads(n, k, s, d, padding) for n, k, s, d in zip(x.shape[2:], kernel.shape[:2], strides, dilation)]
    x = F.pad(x, [p for pair in reversed(pads) for p in pair]).clone(memory_format=torch.contiguous_format)
    return F.conv2d(x, kernel.permute(3, 2, 0, 1).contiguous(), bias, stride=strides, dilation=dilation)


def _conv_lstm_masks(torch, shape, rate, like):
    """Four K.dropout(ones, rate) masks (kept: 1/(1 - rate), dropped: 0), one per gate; None outside 0 < rate < 1
    (2.2.x applies none there)."""
    if not 0.0 < rate < 1.0:
        return None
    return [(torch.rand(tuple(shape), dtype=like.dtype, device=like.device) >= rate).to(like.dtype) / (1 - rate)
            for _ in range(4)]


def _gate_convs(torch, a, masks, kernel, bias, filters, nchw, conv):
    """The four gates' convolutions (NCHW, gates along dim 1): one convolution of a without masks, else gate k
    convolves a * masks[k] with its kernel block (and bias block)."""
    if masks is None:
        return conv(nchw(a), kernel, bias)
    return torch.cat([conv(nchw(a * m), kernel[..., k * filters:(k + 1) * filters],
                           None if bias is None else bias[k * filters:(k + 1) * filters])
                      for k, m in enumerate(masks)], dim=1)


def conv_lstm(torch, cfg, x, ws, mask=None, training=False):
    """ConvLSTM2D as a differentiable loop over F.conv2d: gates i, f, c, o in blocks of `filters`; the input
    convolution with the layer's strides/padding/dilation plus the bias, the recurrent one 'same' with stride 1;
    activations in the Keras layout (softmax along its last axis). x may be [x, h0, c0] (initial states). At a
    masked step (mask False) the states are kept and the output repeats the previous output, zeros at a leading
    masked step (K.rnn's rule, oracle/recurrent.py). Training mode: 2.2.x ConvLSTM2DCell's dropout, four input masks
    and four recurrent masks (one per gate, element-wise), drawn once per call and shared by every timestep."""
    F = cfg["filters"]
    x_masks = _conv_lstm_masks(torch, x[0][:, 0].shape if isinstance(x, (list, tuple)) else x[:, 0].shape,
                               cfg["dropout"], ws[0]) if training else None
    h_masks = None
    x, given = (x[0], list(x[1:])) if isinstance(x, (list, tuple)) else (x, [])
    last = cfg["data_format"] == "channels_last"
    nchw = (lambda t: t.movedim(-1, 1)) if last else (lambda t: t)
    keras = (lambda t: t.movedim(1, -1)) if last else (lambda t: t)
    kernel, recurrent = ws[0], ws[1]
    bias = ws[2] if cfg["use_bias"] else None
    act = lambda name, t: activation(torch, name, t)  # noqa: E731
    steps = range(x.shape[1])
    h = c = None
    if given:
        h, c = given
    outs = []
    for t in (reversed(steps) if cfg["go_backwards"] else steps):
        zx = _gate_convs(torch, x[:, t], x_masks, kernel, bias, F, nchw,
                         lambda a, k, b: _conv_lstm_pre(torch, a, k, b, cfg["strides"], cfg["dilation_rate"],
                                                        cfg["padding"]))
        if h is None:  # zeros of the input convolution's output shape
            h = c = keras(torch.zeros_like(zx[:, :F]))
        if training and t == (steps[-1] if cfg["go_backwards"] else steps[0]):
            h_masks = _conv_lstm_masks(torch, h.shape, cfg["recurrent_dropout"], ws[0])
        z = zx + _gate_convs(torch, h, h_masks, recurrent, None, F, nchw,
                             lambda a, k, b: _conv_lstm_pre(torch, a, k, b, (1, 1), (1, 1), "same"))
        zi, zf, zc, zo = (keras(b) for b in z.chunk(4, dim=1))
        i, f, o = act(cfg["recurrent_activation"], zi), act(cfg["recurrent_activation"], zf), \
            act(cfg["recurrent_activation"], zo)
        c_new = f * c + i * act(cfg["activation"], zc)
        h_new = o * act(cfg["activation"], c_new)
        if mask is not None:
            keep = torch.as_tensor(mask[:, t], device=x.device).reshape((-1,) + (1,) * (h.dim() - 1))
            prev = outs[-1] if outs else torch.zeros_like(h_new)
            h_new, c_new, out = torch.where(keep, h_new, h), torch.where(keep, c_new, c), torch.where(keep, h_new, prev)
        else:
            out = h_new
        outs.append(out)
        h, c = h_new, c_new
    y = torch.stack(outs, dim=1) if cfg["return_sequences"] else outs[-1]
    return [y, h, c] if cfg["return_state"] else y
