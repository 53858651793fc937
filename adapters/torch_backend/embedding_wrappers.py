"""PyTorch, families embeddings and wrappers: Embedding (and its mask), TimeDistributed. Bidirectional is in
recurrent.py."""
from __future__ import annotations


def embedding(torch, cfg, x, ws):
    """F.embedding on the indices: the float-carried input truncated to int64 as Keras's int32 cast does (the
    cast has no gradient, so the input's gradient is None, returned as zeros). No padding_idx: torch's only
    zeroes that row's gradient and masks nothing (docs/traps.md 16); the mask is embedding_mask."""
    return torch.nn.functional.embedding(x.long(), ws[0])


def time_distributed(forward_of, torch, cfg, x, ws):
    """torch's own mapping of the wrapped layer on (batch * timesteps, ...), reshaped back to (batch, timesteps,
    ...); `forward_of(class name)` looks the wrapped layer's forward function up in the table (layers.py) at
    call time, so any layer mapped there can be wrapped."""
    inner = cfg["layer"]
    y = forward_of(inner["class_name"])(torch, inner["config"], x.reshape((-1,) + tuple(x.shape[2:])), ws)
    return y.reshape(tuple(x.shape[:2]) + tuple(y.shape[1:]))


def embedding_mask(torch, cfg, x):
    return (x != 0) if cfg["mask_zero"] else None
