"""PyTorch, family core: Dense, Activation, Flatten, ActivityRegularization, Lambda, Reshape, Permute,
RepeatVector, Masking (and the mask Masking passes on)."""
from __future__ import annotations

from .ops import activation


def dense(torch, cfg, x, ws):
    y = torch.nn.functional.linear(x, ws[0].T, ws[1] if cfg["use_bias"] else None)
    return activation(torch, cfg["activation"], y)


def activation_layer(torch, cfg, x, ws):
    return activation(torch, cfg["activation"], x)


def flatten(torch, cfg, x, ws):
    # Keras moves channels last before flattening (docs/traps.md 21); torch.flatten on NCHW would order differently.
    if cfg["data_format"] == "channels_first":
        x = x.movedim(1, -1)
    return torch.flatten(x, start_dim=1)


def activity_regularization(torch, cfg, x, ws):
    return x.clone()


def _antirectifier(torch, x):
    x = x - x.mean(dim=1, keepdim=True)
    x = x / torch.sqrt(torch.clamp_min((x * x).sum(dim=1, keepdim=True), 1e-12))
    return torch.cat([torch.relu(x), torch.relu(-x)], dim=1)


def lambda_layer(torch, cfg, x, ws):
    return x ** 2 if cfg["function"] == "square" else _antirectifier(torch, x)


def reshape(torch, cfg, x, ws):
    return x.reshape((x.shape[0],) + tuple(cfg["target_shape"]))


def permute(torch, cfg, x, ws):
    return x.permute(0, *cfg["dims"])


def repeat_vector(torch, cfg, x, ws):
    return x.unsqueeze(1).expand(-1, cfg["n"], -1)


def _kept_steps(x, mask_value):
    """True where some feature of a timestep differs from mask_value (docs/traps.md 16)."""
    return (x != mask_value).any(dim=-1)


def masking(torch, cfg, x, ws):
    return x * _kept_steps(x, cfg["mask_value"]).unsqueeze(-1).to(x.dtype)


def masking_mask(torch, cfg, x):
    return _kept_steps(x, cfg["mask_value"])
