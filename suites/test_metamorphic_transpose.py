"""Metamorphic relation of the transposed convolutions, on the oracle and on every adapter (suites/metamorphic.py):
Conv{2,3}DTranspose is the adjoint of Conv{2,3}D, <conv(x), y> == <x, conv_transpose(y)>. Recorded under check
"metamorphic:conv_transpose_adjoint" (the transpose's row); an example on which a known divergence makes either
layer raise or differ is recorded as discarded, naming the entry, and rejected."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import oracle

from . import tolerance
from .metamorphic import RECORDED, Backend, Discarded, Example, known_divergence
from .metamorphic import relation_fixture  # noqa: F401 (the `relation` fixture)


def assert_adjoint(what: str, backend: Backend, conv: dict, transpose: dict, kernel, x, y,
                   example: Example | None = None) -> None:
    """<conv(x), y> == <x, transpose(y)> on `backend`, both layers with the same kernel and no bias.

    Each side is an inner product of a backend output with exact (cast) data, so its error is at most
    sum(|data| * per-element bound of the output) (tolerance.chain_bound) plus the float64 rounding of the inner
    product itself (tolerance.sum_bound over its terms); the allowed difference is the sum over both sides."""
    kernel, x, y = backend.cast(kernel), backend.cast(x), backend.cast(y)
    _, b_conv = tolerance.chain_bound([(conv, [kernel])], x, backend.dtype)
    _, b_back = tolerance.chain_bound([(transpose, [kernel])], y, backend.dtype)
    forward, back = backend.run([(conv, [kernel])], x), backend.run([(transpose, [kernel])], y)
    if forward.shape != y.shape or back.shape != x.shape:
        raise AssertionError(f"{what} [{backend.id}]: conv(x).shape={forward.shape} (y {y.shape}), "
                             f"transpose(y).shape={back.shape} (x {x.shape})")
    lhs, rhs = float(np.vdot(forward, y)), float(np.vdot(x, back))
    bound = (float(np.sum(np.abs(y) * b_conv)) + float(np.sum(np.abs(x) * b_back))
             + float(tolerance.sum_bound(y.size, "float64", np.sum(np.abs(forward * y))))
             + float(tolerance.sum_bound(x.size, "float64", np.sum(np.abs(x * back)))))
    error = abs(lhs - rhs)
    if example is not None:  # the record's metrics: the scalar inner product against its bound
        example.metrics = {"worst_output": "<conv(x), y> - <x, transpose(y)>", "max_abs_error": error,
                           "max_error_in_bounds": error / bound if bound else (0.0 if error == 0 else float("inf")),
                           "worst_index": [], "actual": lhs, "expected": rhs, "bound": bound}
    assert error <= bound, (
        f"{what} [{backend.id}] x.shape={x.shape}: <conv(x), y> = {lhs!r}, but <x, transpose(y)> = {rhs!r} "
        f"+- {bound:.3g} (error {error:.3g} = {error / bound:.3g} x bound)\n"
        f"  conv: {conv['config']}\n  transpose: {transpose['config']}")


@pytest.mark.parametrize("rank", [2, 3])
@RECORDED
@given(data=st.data())
def test_conv_transpose_is_the_adjoint_of_conv(backend, relation, rank, data):
    """DESIGN.md: the conv kernel (*k, C, F) is the transpose's (*k, filters=C, in=F); 'same' padding is computed
    on x's size by both, and output_padding (or None) is chosen so that the transpose returns x's shape."""
    s = tuple(data.draw(st.integers(1, 3), label="stride") for _ in range(rank))
    # Conv3DTranspose documents no dilation
    d = tuple(data.draw(st.integers(1, 2), label="dilation") for _ in range(rank)) if (
        rank == 2 and s == (1,) * rank) else (1,) * rank
    k = tuple(data.draw(st.integers(1, 3), label="k") for _ in range(rank))
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    # TF's CPU Conv3D (Eigen) crops instead of padding 0 when a stride exceeds the kernel extent under 'same':
    # those examples are discarded below by the entries keras3- / tf-keras-conv3d-same-stride-beyond-kernel
    spans = [(ki - 1) * di + 1 for ki, di in zip(k, d)]
    sizes = tuple(data.draw(st.integers(span if padding == "valid" else 1, span + (3 if rank == 2 else 2)),
                            label="size") for span in spans)
    b, c, f = 2, 3, 2
    conv = {"class_name": f"Conv{rank}D", "config": {"filters": f, "kernel_size": k, "strides": s,
                                                     "padding": padding, "dilation_rate": d, "use_bias": False}}
    m = oracle.output_shape(conv, (b, *sizes, c))[1:-1]
    # the transpose's length with output_padding p: (m-1)*s + span - 2*(span//2 if 'same') + p
    op = tuple(n - ((mi - 1) * si + span - (2 * (span // 2) if padding == "same" else 0))
               for n, mi, si, span in zip(sizes, m, s, spans))
    if any(p >= si for p, si in zip(op, s)):  # 'same' with an even span and n = m*s: only None reaches n
        assume(all(n == mi * si for n, mi, si in zip(sizes, m, s)))
        op = None
    transpose = {"class_name": f"Conv{rank}DTranspose", "config": {
        "filters": c, "kernel_size": k, "strides": s, "padding": padding, "output_padding": op,
        "dilation_rate": d, "use_bias": False}}
    backend.skip_unless_supported(conv, transpose)
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-2, 2, (b, *sizes, c)), rng.uniform(-2, 2, (b, *m, f))
    with relation.example("conv_transpose_adjoint", transpose, y, seed) as ex:
        # a known divergence that makes either layer raise or differ on its config leaves nothing to relate:
        # recorded as discarded (naming the entry), then rejected
        for config, shape in ((conv, x.shape), (transpose, y.shape)):
            entry = known_divergence(backend, config, ("error", "mismatch"), shape)
            if entry:
                raise Discarded(entry, config["class_name"])
        assert_adjoint(f"Conv{rank}DTranspose is the adjoint of Conv{rank}D", backend, conv, transpose,
                       rng.uniform(-1, 1, (*k, c, f)), x, y, example=ex)
