"""PyTorch: canonical configs mapped onto torch.nn.functional. Never calls the oracle.

The TorchAdapter (the contract of adapters/base.py) dispatches every call through the one table of layers.py;
the layer families hold the maths, ops.py the helpers they share. torch is imported on first use.
"""
from __future__ import annotations

import numpy as np

from ..base import Adapter
from . import recurrent
from .layers import LAYERS
from .ops import DTYPES, TORCH_LAYOUT, constraint, initialize, l1l2, load_torch as _torch, weight_prefixes


class TorchAdapter(Adapter):
    name = "torch"
    package = "torch"
    devices = ("cpu", "cuda")
    dtypes = DTYPES
    layers = frozenset(LAYERS)
    unsupported_layers = {"Input": "torch has no symbolic input tensors: data is fed to the first op directly"}
    abilities = frozenset({"masks", "stateful", "weight_params"})

    def device_reason(self, device):
        if device == "cpu":
            return None
        if device == "cuda":
            return None if _torch().cuda.is_available() else "no CUDA device"
        return f"torch adapter has no device {device!r}"

    def versions(self):
        torch = _torch()
        return {"torch": torch.__version__, "torch.version.cuda": str(torch.version.cuda),
                "torch.backends.cuda.matmul.allow_tf32": str(torch.backends.cuda.matmul.allow_tf32),
                "torch.backends.cudnn.allow_tf32": str(torch.backends.cudnn.allow_tf32),
                "torch.get_num_threads": str(torch.get_num_threads())}

    def _tensors(self, arrays, device, grad=False):
        torch = _torch()
        # a fresh copy: a time-reversed view has a negative stride (numpy keeps it even on a size-1 axis, where the
        # array counts as contiguous), which torch cannot wrap
        return [torch.tensor(np.array(a, copy=True), device=device, requires_grad=grad) for a in arrays]

    def _run(self, config, xt, ws, device, training, seed, mask=None):
        """(y, weights after the call). Training mode with a seed (the call's, else the layer's `seed`) runs under
        a forked generator seeded with it, so the same seed repeats the sample and the global torch generator
        is left as it was; without one it draws from the global generator. Only recurrent layers take a mask."""
        torch = _torch()
        name = config["class_name"]
        layer = LAYERS[name]
        if layer.recurrent:
            def call():
                return layer.forward(torch, config["config"], xt, ws, mask=mask, training=training), ws
        elif mask is not None:
            raise ValueError(f"torch adapter: {name} takes no mask")
        elif not training or layer.training is None:
            return layer.forward(torch, config["config"], xt, ws), ws
        else:
            def call():
                return layer.training(torch, config["config"], xt, ws)
        seed = seed if seed is not None else config["config"].get("seed")
        if not training or seed is None:
            return call()
        with torch.random.fork_rng(devices=[] if device == "cpu" else None):
            torch.manual_seed(int(seed))
            return call()

    def _mask(self, mask, device):
        return None if mask is None else _torch().tensor(np.array(mask, dtype=bool, copy=True), device=device)

    def _forward(self, config, weights, x, *, device, dtype, training, seed, mask=None):
        if training:
            return self._train_step(config, weights, x, device=device, dtype=dtype, seed=seed, mask=mask)[0]
        return self._no_grad_run(config, weights, x, device, False, None, mask)[0]

    def _no_grad_run(self, config, weights, x, device, training, seed, mask=None):
        torch = _torch()
        xs = x if isinstance(x, list) else [x]  # a list: a merge layer's inputs, or [x, *initial states]
        ts = self._tensors([*xs, *weights], device)
        with torch.no_grad():
            y, new = self._run(config, ts[:len(xs)] if xs is x else ts[0], ts[len(xs):], device, training, seed,
                               self._mask(mask, device))
        # several outputs (return_state, Bidirectional merge_mode=None) come back as a list
        y = [t.cpu().numpy() for t in y] if isinstance(y, list) else y.cpu().numpy()
        return y, [w.cpu().numpy() for w in new]

    def _train_step(self, config, weights, x, *, device, dtype, seed, mask=None):
        return self._no_grad_run(config, weights, x, device, True, seed, mask)

    def _vjp(self, config, weights, x, g, *, device, dtype, training=False, mask=None):
        torch = _torch()
        xs = x if isinstance(x, list) else [x]
        ts = self._tensors([*xs, *weights], device, grad=True)
        y, _ = self._run(config, ts[:len(xs)] if xs is x else ts[0], ts[len(xs):], device, training, None,
                         self._mask(mask, device))
        # several outputs: one cotangent per output, autograd over all of them
        ys, gs = (y, list(g)) if isinstance(y, list) else ([y], [g])
        grads = torch.autograd.grad(ys, ts, grad_outputs=[torch.tensor(np.asarray(a, dtype), device=device)
                                                          for a in gs], allow_unused=True)
        out = [np.zeros_like(a) if gr is None else gr.cpu().numpy() for a, gr in zip([*xs, *weights], grads)]
        return (out[:len(xs)] if xs is x else out[0]), out[len(xs):]

    def stateful_run(self, config, weights, batches, *, device="cpu", dtype="float64", reset=()):
        """One stateful layer called on each batch in turn: the final states of a call are the initial states of
        the next; reset_states() (zeros) before call i for i in `reset`. A list batch [x, *states] passes its
        own initial states, as Keras 2.2.x prefers them to the stored ones. Returns each call's output(s)."""
        torch = _torch()
        ws = self._tensors([np.asarray(w, dtype) for w in weights], device)
        states, outputs = None, []
        for i, batch in enumerate(batches):
            if i in reset:
                states = None
            xs = self._tensors([np.asarray(a, dtype) for a in (batch if isinstance(batch, list) else [batch])],
                               device)
            inputs = xs if len(xs) > 1 else ([xs[0], *states] if states else xs[0])
            with torch.no_grad():
                y, states = recurrent.run_layer(torch, config["class_name"], config["config"], inputs, ws)
            outputs.append([t.cpu().numpy() for t in y] if isinstance(y, list) else y.cpu().numpy())
        return outputs

    def _compute_mask(self, config, weights, x, *, device, dtype):
        layer = LAYERS.get(config["class_name"])
        fn = None if layer is None else layer.mask
        mask = None if fn is None else fn(_torch(), config["config"], self._tensors([x], device)[0])
        return None if mask is None else mask.cpu().numpy()

    # ---- weight parameters ----

    def initial_weights(self, config, input_shape, *, seed, device="cpu", dtype="float64", draws=1, shapes=None):
        torch = _torch()
        layer = LAYERS.get(config["class_name"])
        layout = TORCH_LAYOUT if layer is None else layer.layout
        out = []
        for d in range(draws):
            draw = []
            for i, (prefix, shape) in enumerate(zip(weight_prefixes(config, len(shapes)), shapes)):
                generator = torch.Generator(device=device).manual_seed((seed + 104729 * d + 7919 * i) % 2 ** 31)
                keras = torch.empty(shape, dtype=getattr(torch, dtype), device=device)
                t = layout.to_torch(prefix, keras).contiguous()
                with torch.no_grad():
                    # no torch counterpart: Keras's own fan rule on the Keras layout (ops.keras_fans)
                    own = prefix == "alpha" or layout.own_fans
                    init = config["config"][f"{prefix}_initializer"]
                    if prefix == "bias" and config["config"].get("unit_forget_bias"):
                        # torch has no unit_forget_bias: the forget gate's block (i, f, c, o; CuDNNLSTM's
                        # recurrent half) set to ones, the bias initializer run on the parts around it
                        u = shape[-1] // (8 if config["class_name"] == "CuDNNLSTM" else 4)
                        first = 5 * u if config["class_name"] == "CuDNNLSTM" else u
                        initialize(torch, init, t[:first], generator)
                        t[first:first + u] = 1.0
                        initialize(torch, init, t[first + u:], generator)
                    else:
                        initialize(torch, init, t, generator, tuple(shape) if own else None)
                draw.append(layout.from_torch(prefix, t, shape).cpu().numpy())
            out.append(draw)
        return out

    def regularization_losses(self, config, weights, inputs, *, device="cpu", dtype="float64"):
        torch = _torch()
        listed = isinstance(inputs, list)  # a recurrent layer's [x, *initial states], a cell's [x_t, *states]
        xs = inputs if listed else [inputs]
        ts = self._tensors([*xs, *weights], device)
        xt, ws = (ts[:len(xs)] if listed else ts[0]), ts[len(xs):]
        cfg = config["config"]
        with torch.no_grad():
            y = LAYERS[config["class_name"]].forward(torch, cfg, xt, ws)
            losses = [l1l2(torch, cfg[f"{p}_regularizer"], w) for p, w in
                      zip(weight_prefixes(config, len(ws)), ws) if cfg.get(f"{p}_regularizer")]
            activity = ({"class_name": "L1L2", "config": {"l1": cfg["l1"], "l2": cfg["l2"]}}
                        if config["class_name"] == "ActivityRegularization" else cfg.get("activity_regularizer"))
            if activity:  # Keras 2.2.x adds one activity loss per output of a layer with several (return_state)
                losses += [l1l2(torch, activity, a) for a in (y if isinstance(y, list) else [y])]
        return [float(v) for v in losses], ([a.cpu().numpy() for a in y] if isinstance(y, list) else y.cpu().numpy())

    def constrained_weights(self, config, weights, input_shape, *, device="cpu", dtype="float64"):
        torch = _torch()
        ws = self._tensors(weights, device)
        cfg = config["config"]
        with torch.no_grad():
            return [(w if cfg.get(f"{p}_constraint") is None else constraint(torch, cfg[f"{p}_constraint"], w))
                    .cpu().numpy() for p, w in zip(weight_prefixes(config, len(ws)), ws)]


ADAPTER = TorchAdapter()
