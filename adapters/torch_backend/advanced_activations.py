"""PyTorch, family advanced_activations: LeakyReLU, ELU, ThresholdedReLU, ReLU, Softmax, PReLU."""
from __future__ import annotations


def relu(torch, cfg, x, ws):
    """Seed 003's piecewise ReLU (no single torch op, docs/traps.md 23): max_value for x >= max_value, x for
    threshold <= x < max_value, negative_slope * (x - threshold) below the threshold."""
    y = torch.where(x >= cfg["threshold"], x, cfg["negative_slope"] * (x - cfg["threshold"]))
    return y if cfg["max_value"] is None else torch.where(x >= cfg["max_value"], cfg["max_value"], y)


def prelu(torch, cfg, x, ws):
    # F.prelu takes 1 or C parameters only; alpha here has the input's shape with shared axes set to 1.
    return torch.where(x < 0, ws[0] * x, x)


# torch's leaky_relu default slope is 0.01, Keras's 0.3 (docs/traps.md 23): always passed explicitly
def leaky_relu(torch, cfg, x, ws):
    return torch.nn.functional.leaky_relu(x, cfg["alpha"])


def elu(torch, cfg, x, ws):
    return torch.nn.functional.elu(x, cfg["alpha"])


# strictly greater (seed 003); F.threshold(x, theta, 0) is the same rule
def thresholded_relu(torch, cfg, x, ws):
    return torch.nn.functional.threshold(x, cfg["theta"], 0.0)


def softmax(torch, cfg, x, ws):
    return torch.softmax(x, dim=cfg["axis"])
