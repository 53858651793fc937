"""PyTorch, family recurrent (and the Bidirectional wrapper): the recurrent layers of seed 003.
Never calls the oracle.

Two paths compute a sequence:
- torch.nn.LSTM / torch.nn.GRU (run through torch.func.functional_call with the mapped Keras weights, so the
  gradients reach the documented weights) where a module is exactly the documented math: one LSTM or LSTMCell
  with activation 'tanh' and recurrent_activation 'sigmoid' (gates i, f, c, o == torch i, f, g, o; the Keras bias
  in b_ih, zero b_hh, docs/traps.md 11), one GRU or GRUCell with reset_after=True and tanh / sigmoid (z, r, h ->
  torch r, z, n; bias rows 0 / 1 to b_ih / b_hh, docs/traps.md 12), and CuDNNGRU / CuDNNLSTM (they are that math,
  docs/traps.md 15; on CUDA the modules run cuDNN) -- and only without a mask and without training-mode dropout;
- otherwise the cell loop below, written once for every cell kind: hard_sigmoid or any other activation,
  GRU reset_after=False, SimpleRNN, MinimalRNNCell, stacked cells, masks, dropout.
USE_NN_MODULES = False sends everything through the loop (suites/test_torch_recurrent_vs_tf_keras.py compares the
two paths on the same configs).
"""
from __future__ import annotations

from .conv_recurrent import conv_lstm
from .ops import activation

USE_NN_MODULES = True

_GATES = {"SimpleRNNCell": 1, "GRUCell": 3, "LSTMCell": 4, "MinimalRNNCell": 1}
_LAYER_CELL = {"SimpleRNN": "SimpleRNNCell", "GRU": "GRUCell", "LSTM": "LSTMCell"}


def _act(torch, name, y):
    return activation(torch, name, y)  # Keras 2 activations, hard_sigmoid = clip(0.2x + 0.5, 0, 1)


def _cells(torch, name, cfg, ws):
    """The layer as a list of (cell kind, cell config, the cell's weights), weights consumed in get_weights()
    order. CuDNNGRU is GRUCell(reset_after=True, sigmoid) with its (6u,) bias as (2, 3u); CuDNNLSTM is
    LSTMCell(sigmoid) with its (8u,) bias as input half + recurrent half (summed in the loop)."""
    if name in _LAYER_CELL:
        return [(_LAYER_CELL[name], cfg, list(ws))]
    if name in ("CuDNNGRU", "CuDNNLSTM"):
        u = cfg["units"]
        kind = "GRUCell" if name == "CuDNNGRU" else "LSTMCell"
        bias = ws[2].reshape(2, -1)
        cell = {"units": u, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
                "reset_after": True, "implementation": 1, "dropout": 0.0, "recurrent_dropout": 0.0}
        return [(kind, cell, [ws[0], ws[1], bias])]
    specs = cfg["cell"] if isinstance(cfg["cell"], list) else [cfg["cell"]]  # RNN: one cell or a stack
    out, pos = [], 0
    for spec in specs:
        c = spec["config"]
        n = 2 if spec["class_name"] == "MinimalRNNCell" else 2 + int(c["use_bias"])
        out.append((spec["class_name"], c, list(ws[pos:pos + n])))
        pos += n
    return out


def _state_count(kind):
    return 2 if kind == "LSTMCell" else 1


def _blocks(inputs, matrix, k):
    """[inputs[g] @ (g-th column block of matrix)]; one matmul when every gate sees the same input."""
    if all(t is inputs[0] for t in inputs):
        return list((inputs[0] @ matrix).chunk(k, dim=-1))
    return [t @ m for t, m in zip(inputs, matrix.chunk(k, dim=-1))]


def _step(torch, cell, x, states, drop):
    """One Keras 2.2.x cell step: (output, new states). `drop` = (input masks, recurrent masks), one per gate
    (implementation 1) or the first mask for every gate (implementation 2), or None outside training."""
    kind, c, ws = cell
    if kind == "MinimalRNNCell":  # seed 003's example: x . kernel + h . recurrent_kernel, no bias, no activation
        out = x @ ws[0] + states[0] @ ws[1]
        return out, [out]
    k, h = _GATES[kind], states[0]
    dx, dh = drop if drop is not None else (None, None)
    xs = [x * m for m in dx] if dx else [x] * k
    hs = [h * m for m in dh] if dh else [h] * k
    bias = ws[2] if c["use_bias"] else None
    b_in = (bias[0] if bias.dim() == 2 else bias) if bias is not None else None  # GRU reset_after: (2, 3u)
    xg = _blocks(xs, ws[0], k)
    if b_in is not None:
        xg = [a + b for a, b in zip(xg, b_in.chunk(k))]
    act = lambda y: _act(torch, c["activation"], y)
    ract = lambda y: _act(torch, c["recurrent_activation"], y)
    if kind == "SimpleRNNCell":
        out = act(xg[0] + hs[0] @ ws[1])
        return out, [out]
    if kind == "LSTMCell":
        ri, rf, rc, ro = _blocks(hs, ws[1], 4)
        if bias is not None and bias.dim() == 2:  # CuDNNLSTM: the recurrent half of the bias
            ri, rf, rc, ro = [r + b for r, b in zip((ri, rf, rc, ro), bias[1].chunk(4))]
        i, f, o = ract(xg[0] + ri), ract(xg[1] + rf), ract(xg[3] + ro)
        carry = f * states[1] + i * act(xg[2] + rc)
        out = o * act(carry)
        return out, [out, carry]
    # GRUCell
    u = c["units"]
    rz, rr = _blocks(hs[:2], ws[1][:, :2 * u], 2)
    after = c["reset_after"]
    b_rec = bias[1].chunk(3) if after and bias is not None else None
    if b_rec is not None:
        rz, rr = rz + b_rec[0], rr + b_rec[1]
    z, r = ract(xg[0] + rz), ract(xg[1] + rr)
    if after:
        rh = hs[2] @ ws[1][:, 2 * u:]
        rh = r * (rh + b_rec[2] if b_rec is not None else rh)
    else:  # the reset gate before the recurrent matmul (docs/traps.md 12)
        rh = (r * hs[2]) @ ws[1][:, 2 * u:]
    # Keras 2.2.x implementation 2 overwrites h_tm1 with its dropped copy before this mix; implementation 1 keeps it
    mixed = hs[0] if c.get("implementation", 1) == 2 else h
    out = z * mixed + (1 - z) * act(xg[2] + rh)
    return out, [out]


def _dropout_masks(torch, cell, batch, in_dim, training):
    """Keras 2.2.x draws K.dropout(ones, rate) masks once per call and shares them across timesteps: one per gate
    in implementation 1, and in implementation 2 only the first is used (for every gate)."""
    kind, c, _ = cell
    if not training or kind == "MinimalRNNCell":
        return None
    k = _GATES[kind] if c.get("implementation", 1) == 1 else 1
    ref = cell[2][0]
    masks = []
    for rate, width in ((c["dropout"], in_dim), (c["recurrent_dropout"], c["units"])):
        if not 0.0 < rate < 1.0:
            masks.append(None)
            continue
        drawn = [(torch.rand((batch, width), dtype=ref.dtype, device=ref.device) >= rate).to(ref.dtype) / (1 - rate)
                 for _ in range(k)]
        masks.append(drawn * _GATES[kind] if k == 1 else drawn)
    return tuple(masks)


def _units(cell):
    return cell[1]["units"]


def _loop(torch, cells, x, states, mask, go_backwards, training):
    """The cell stack over time. go_backwards processes the steps last to first and returns the outputs in
    processing order (K.rnn). Mask (Keras 2.2.5 K.rnn, both unroll settings): at a masked step every state keeps
    its previous value and the output repeats the previous output, zeros before the first step (Keras 2.2.4's
    symbolic loop repeated states[0] instead, which equals it for every single cell except with initial states)."""
    batch, steps = x.shape[0], x.shape[1]
    widths = [x.shape[-1]] + [_units(c) for c in cells[:-1]]
    drops = [_dropout_masks(torch, c, batch, w, training) for c, w in zip(cells, widths)]
    prev = x.new_zeros((batch, _units(cells[-1])))
    outputs = []
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        y, new, pos = x[:, t], [], 0
        for cell, drop in zip(cells, drops):
            n = _state_count(cell[0])
            y, s = _step(torch, cell, y, states[pos:pos + n], drop)
            new, pos = new + s, pos + n
        if mask is not None:
            keep = mask[:, t:t + 1]
            y = torch.where(keep, y, prev)
            new = [torch.where(keep, a, b) for a, b in zip(new, states)]
        states, prev = new, y
        outputs.append(y)
    return torch.stack(outputs, dim=1), states


def _nn_module_fits(name, cells, mask, training):
    """Whether torch.nn.LSTM / GRU computes exactly this layer (module docstring)."""
    if not USE_NN_MODULES or mask is not None or len(cells) != 1:
        return False
    if name in ("CuDNNGRU", "CuDNNLSTM"):
        return True
    kind, c, _ = cells[0]
    dropping = training and (0 < c["dropout"] < 1 or 0 < c["recurrent_dropout"] < 1)
    return (kind == "LSTMCell" or (kind == "GRUCell" and c["reset_after"])) and not dropping and \
        c["activation"] == "tanh" and c["recurrent_activation"] == "sigmoid"


def _swap_rz(torch, w, u):
    """Keras GRU blocks z, r, h -> torch r, z, n along the first axis (torch layout)."""
    return torch.cat([w[u:2 * u], w[:u], w[2 * u:]])


def _nn_run(torch, cell, x, states, go_backwards):
    """One LSTM / GRU cell over the sequence with torch.nn's module; weights mapped, gradients flow back."""
    kind, c, ws = cell
    u, lstm = c["units"], kind == "LSTMCell"
    module = (torch.nn.LSTM if lstm else torch.nn.GRU)(x.shape[-1], u, bias=c["use_bias"], batch_first=True,
                                                       device="meta", dtype=x.dtype)
    order = (lambda w: w) if lstm else (lambda w: _swap_rz(torch, w, u))
    params = {"weight_ih_l0": order(ws[0].T), "weight_hh_l0": order(ws[1].T)}
    if c["use_bias"]:
        bias = ws[2].reshape(-1, ws[2].shape[-1])  # (1 or 2, k*u): input row, optional recurrent row
        params["bias_ih_l0"] = order(bias[0])
        params["bias_hh_l0"] = order(bias[1]) if len(bias) == 2 else torch.zeros_like(bias[0])
    seq = x.flip(1) if go_backwards else x
    init = tuple(s.unsqueeze(0) for s in states)
    out, final = torch.func.functional_call(module, params, (seq, init if lstm else init[0]))
    return out, [f[0] for f in (final if lstm else (final,))]


# Recurrent layers of another family (ConvLSTM2D, conv_recurrent.py), so that Bidirectional can wrap them and a
# stateful run can carry their states: name -> (torch, cfg, inputs, ws, mask=..., training=...) -> the output, or
# [output, *final states].
OTHER_LAYERS = {"ConvLSTM2D": conv_lstm}


def _stack_order(cells, states):
    """Keras 2.2.x StackedRNNCells keeps the states of a stack as one flat list in REVERSE cell order (the last
    cell's states first, each cell's own states in order: [h2, c2, h1, c1]); the loop wants cell order. The same
    regrouping maps either way."""
    sizes = [_state_count(c[0]) for c in cells]
    groups, pos = [], 0
    for n in reversed(sizes):
        groups.append(list(states[pos:pos + n]))
        pos += n
    return [s for g in reversed(groups) for s in g]


def run_layer(torch, name, cfg, inputs, ws, mask=None, training=False):
    """(the layer's output or list of outputs, its final states). inputs: x (B, T, F), or [x, *initial states]
    (the Keras 2.2.x list call); default initial states are zeros. A CuDNN layer rejects a mask as 2.2.x does."""
    if name == "Bidirectional":
        return _bidirectional(torch, cfg, inputs, ws, mask, training)
    if name in OTHER_LAYERS:  # asked for its states always: a stateful run carries them to the next call
        out = OTHER_LAYERS[name](torch, {**cfg, "return_state": True}, inputs, ws, mask=mask, training=training)
        y, final = out[0], list(out[1:])
        return ([y, *final] if cfg.get("return_state") else y), final
    x, given = (inputs[0], list(inputs[1:])) if isinstance(inputs, list) else (inputs, [])
    cells = _cells(torch, name, cfg, ws)
    stacked = len(cells) > 1
    if stacked and given:
        given = _stack_order(cells, given)
    if name.startswith("CuDNN") and mask is not None:
        raise ValueError("Masking is not supported for CuDNN RNNs.")
    states = given or [x.new_zeros((x.shape[0], _units(c))) for c in cells for _ in range(_state_count(c[0]))]
    backwards = cfg.get("go_backwards", False)  # CuDNN layers document none; Bidirectional sets it
    if _nn_module_fits(name, cells, mask, training):
        seq, final = _nn_run(torch, cells[0], x, states, backwards)
    else:
        seq, final = _loop(torch, cells, x, states, mask, backwards, training)
    y = seq if cfg["return_sequences"] else seq[:, -1]
    if stacked:
        final = _stack_order(list(reversed(cells)), final)  # cell order -> 2.2.x's reverse order
    return ([y, *final] if cfg["return_state"] else y), final


def _bidirectional(torch, cfg, inputs, ws, mask, training):
    """Keras 2.2.x Bidirectional: forward weights then backward weights; the backward copy runs with go_backwards
    negated; list input states split in halves; its sequence output is re-reversed before merging (docs/traps.md 17);
    merge_mode None returns [forward, backward]; return_state appends forward then backward states."""
    inner, mode = cfg["layer"], cfg["merge_mode"]
    name, c = inner["class_name"], inner["config"]
    x, given = (inputs[0], list(inputs[1:])) if isinstance(inputs, list) else (inputs, [])
    half, pivot = len(ws) // 2, len(given) // 2
    back = {**c, "go_backwards": not c.get("go_backwards", False)}
    y, fs = run_layer(torch, name, c, [x, *given[:pivot]] if given else x, ws[:half], mask, training)
    y_rev, bs = run_layer(torch, name, back, [x, *given[pivot:]] if given else x, ws[half:], mask, training)
    if c["return_state"]:
        y, y_rev = y[0], y_rev[0]
    if c["return_sequences"]:
        y_rev = y_rev.flip(1)
    merged = {"concat": lambda: [torch.cat([y, y_rev], dim=-1)], "sum": lambda: [y + y_rev],
              "ave": lambda: [(y + y_rev) / 2], "mul": lambda: [y * y_rev], None: lambda: [y, y_rev]}[mode]()
    if c["return_state"]:
        return merged + fs + bs, fs + bs
    return (merged if mode is None else merged[0]), fs + bs


def cell_row(torch, name, cfg, inputs, ws, mask=None, training=False):
    """A cell called alone, one step: [x_t, *states] -> [output, *new states]."""
    if mask is not None:
        raise ValueError(f"{name} is one step: it takes no mask")
    cell = (name, cfg, list(ws))
    x, states = inputs[0], list(inputs[1:])
    out, new = _step(torch, cell, x, states, _dropout_masks(torch, cell, x.shape[0], x.shape[-1], training))
    return [out, *new]


LAYER_NAMES = ("SimpleRNN", "GRU", "LSTM", "CuDNNGRU", "CuDNNLSTM", "RNN", "Bidirectional")
CELL_NAMES = tuple(_GATES)


# ---- the table's forward functions (layers.py) ----
# They take the call's mask and training flag (dropout masks drawn under the adapter's seeded generator), may take a
# list input [x, *initial states] and may return a list of outputs (return_state, Bidirectional merge_mode=None).

def recurrent_row(name):
    """(torch, cfg, x, ws, mask=None, training=False) -> the output (or list of outputs) of `name`."""
    if name in CELL_NAMES:
        return lambda torch, cfg, x, ws, mask=None, training=False: cell_row(torch, name, cfg, x, ws, mask, training)
    return lambda torch, cfg, x, ws, mask=None, training=False: run_layer(torch, name, cfg, x, ws, mask, training)[0]
