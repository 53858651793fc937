"""PyTorch, family merge (a list of inputs): Add, Subtract, Multiply, Average, Maximum, Concatenate, Dot."""
from __future__ import annotations


def _keras_aligned(xs):
    """Keras _Merge inserts size-1 axes right after the batch axis of lower-rank inputs (torch broadcasting would
    insert them in front of the batch axis)."""
    rank = max(x.dim() for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:]) for x in xs]


def _count(name, xs, exactly=None):
    """Keras's call contract, which torch ops do not know: a list of at least 2 inputs (exactly 2 for Subtract
    and Dot)."""
    if len(xs) < 2 or (exactly is not None and len(xs) != exactly):
        raise ValueError(f"{name} takes a list of {'exactly' if exactly else 'at least'} {exactly or 2} inputs, "
                         f"got {len(xs)}")


def _fold(op, name, exactly=None):
    """Keras folds its merges left to right: ((x0 op x1) op x2) ..."""
    def run(torch, cfg, xs, ws):
        _count(name, xs, exactly)
        xs = _keras_aligned(xs)
        y = xs[0]
        for x in xs[1:]:
            y = op(torch, y, x)
        return y
    return run


def average(torch, cfg, xs, ws):
    return _fold(lambda torch, a, b: a + b, "Average")(torch, cfg, xs, ws) / len(xs)


# torch.maximum splits the gradient of a tie in halves; Keras's tf.maximum gives it to the left operand (x >= y),
# so the first input attaining the maximum takes it all: torch.where routes the gradient to the branch it picks.
maximum = _fold(lambda torch, a, b: torch.where(a >= b, a, b), "Maximum")


def concatenate(torch, cfg, xs, ws):
    _count("Concatenate", xs)
    return torch.cat(xs, dim=cfg["axis"])


def _keras_l2_normalize(torch, x, axis):
    """Keras 2 K.l2_normalize: x * rsqrt(max(sum x^2, 1e-12)) (docs/traps.md 22). F.normalize divides by
    max(norm, 1e-12), a floor a million times lower in norm, so tiny vectors would come out unit length."""
    return x * torch.rsqrt(torch.clamp((x * x).sum(dim=axis, keepdim=True), min=1e-12))


def dot(torch, cfg, xs, ws):
    """Per-sample contraction of axes[0] of x with axes[1] of y (axes count the batch axis): both as (batch, free,
    k), one bmm, then x's free axes followed by y's; a result of rank 1 becomes (batch, 1) as in K.batch_dot."""
    _count("Dot", xs, exactly=2)
    x, y = xs
    a0, a1 = (a % t.dim() for a, t in zip(cfg["axes"], xs))
    if cfg["normalize"]:
        x, y = _keras_l2_normalize(torch, x, a0), _keras_l2_normalize(torch, y, a1)
    xm, ym = x.movedim(a0, -1), y.movedim(a1, -1)
    out = torch.bmm(xm.reshape(x.shape[0], -1, xm.shape[-1]), ym.reshape(y.shape[0], -1, ym.shape[-1]).transpose(1, 2))
    out = out.reshape(x.shape[0], *xm.shape[1:-1], *ym.shape[1:-1])
    return out.unsqueeze(1) if out.dim() == 1 else out


add = _fold(lambda torch, a, b: a + b, "Add")
subtract = _fold(lambda torch, a, b: a - b, "Subtract", 2)
multiply = _fold(lambda torch, a, b: a * b, "Multiply")
