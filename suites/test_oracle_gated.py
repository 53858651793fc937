"""Oracle self-tests of the gated recurrent layers against the documented formulas written out here by hand
(seed 003 and the Keras 2.2.x source): GRU (both reset_after variants), LSTM, the seed's MinimalRNNCell
example shapes, stacked cells' state order, CuDNNGRU / CuDNNLSTM as GRU / LSTM with their bias halves."""
from __future__ import annotations

import numpy as np
import pytest

import oracle

from .ulps import assert_ulps

RNG = np.random.default_rng(20260)


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)  # Keras 2 (docs/traps.md 14)


def _w(*shape):
    return RNG.uniform(-1.5, 1.5, size=shape)


# Both sides sum at most 8 products per pre-activation and pass them through gates and activations whose
# derivatives are at most 1, a few times over: 64 roundings at the size of the largest |pre-activation| bound
# (every operand is below 1.5 in magnitude, at most 8 products summed, so 8 * 1.5 * 1.5 + 1.5 < 20).
OPS, SCALE = 64, 20.0


def close(got, want):
    assert_ulps(got, want, ops=OPS, scale=SCALE)


@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_cell_step_follows_the_documented_formulas(reset_after):
    u, x, h = 2, _w(3, 4), _w(3, 2)
    W, U = _w(4, 3 * u), _w(u, 3 * u)
    b = _w(2, 3 * u) if reset_after else _w(3 * u)
    bi, br = (b[0], b[1]) if reset_after else (b, np.zeros(3 * u))
    Wz, Wr, Wh = W[:, :u], W[:, u:2 * u], W[:, 2 * u:]
    Uz, Ur, Uh = U[:, :u], U[:, u:2 * u], U[:, 2 * u:]
    z = hard_sigmoid(x @ Wz + bi[:u] + h @ Uz + br[:u])
    r = hard_sigmoid(x @ Wr + bi[u:2 * u] + h @ Ur + br[u:2 * u])
    if reset_after:
        hh = np.tanh(x @ Wh + bi[2 * u:] + r * (h @ Uh + br[2 * u:]))
    else:
        hh = np.tanh(x @ Wh + bi[2 * u:] + (r * h) @ Uh)
    expected = z * h + (1 - z) * hh
    cfg = {"class_name": "GRUCell", "config": {"units": u, "reset_after": reset_after}}
    out, state = oracle.forward(cfg, [W, U, b], [x, h])
    close(out, expected)
    np.testing.assert_array_equal(state, out)


def test_lstm_cell_step_follows_the_documented_formulas():
    u, x, h, c = 3, _w(2, 2), _w(2, 3), _w(2, 3)
    W, U, b = _w(2, 4 * u), _w(u, 4 * u), _w(4 * u)
    pre = x @ W + h @ U + b
    i, f, g, o = (pre[:, k * u:(k + 1) * u] for k in range(4))
    c2 = hard_sigmoid(f) * c + hard_sigmoid(i) * np.tanh(g)
    h2 = hard_sigmoid(o) * np.tanh(c2)
    out, new_h, new_c = oracle.forward({"class_name": "LSTMCell", "config": {"units": u}}, [W, U, b], [x, h, c])
    close(new_c, c2)
    close(out, h2)
    np.testing.assert_array_equal(new_h, out)


def test_the_seeds_minimal_rnn_cell_examples_have_the_documented_shapes():
    one = {"class_name": "RNN", "config": {"cell": {"class_name": "MinimalRNNCell", "config": {"units": 32}}}}
    assert oracle.output_shape(one, (None, None, 5)) == (None, 32)
    stacked = {"class_name": "RNN", "config": {"cell": [{"class_name": "MinimalRNNCell", "config": {"units": 32}},
                                                        {"class_name": "MinimalRNNCell", "config": {"units": 64}}]}}
    assert oracle.output_shape(stacked, (None, None, 5)) == (None, 64)
    assert [tuple(s) for s in oracle.weight_shapes(stacked, (2, 3, 5))] == [(5, 32), (32, 32), (32, 64), (64, 64)]


def test_minimal_rnn_cell_is_its_two_products():
    x, h, k, r = _w(2, 5), _w(2, 3), _w(5, 3), _w(3, 3)
    out, state = oracle.forward({"class_name": "MinimalRNNCell", "config": {"units": 3}}, [k, r], [x, h])
    close(out, x @ k + h @ r)


def test_stacked_cells_run_in_turn_and_return_their_states_in_reverse_cell_order():
    """RNN([LSTMCell(2), SimpleRNNCell(3)]) = the two cells stepped in turn; 2.2.x StackedRNNCells returns the
    states as [h_simple, h_lstm, c_lstm] (states[0] is the output)."""
    lstm = {"class_name": "LSTMCell", "config": {"units": 2}}
    simple = {"class_name": "SimpleRNNCell", "config": {"units": 3}}
    x = _w(2, 4, 3)
    lw, sw = [_w(3, 8), _w(2, 8), _w(8)], [_w(2, 3), _w(3, 3), _w(3)]
    h, c, s = np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 3))
    for t in range(4):
        y, h, c = oracle.forward(lstm, lw, [x[:, t], h, c])
        y, s = oracle.forward(simple, sw, [y, s])
    rnn = {"class_name": "RNN", "config": {"cell": [lstm, simple], "return_state": True}}
    out = oracle.forward(rnn, lw + sw, x)
    assert [a.shape for a in out] == [(2, 3), (2, 3), (2, 2), (2, 2)]
    for got, want in zip(out, [s, s, h, c]):
        close(got, want)


def test_cudnn_gru_is_gru_reset_after_with_sigmoid_and_the_bias_halves():
    u, x = 2, _w(3, 4, 3)
    W, U, b = _w(3, 3 * u), _w(u, 3 * u), _w(6 * u)
    gru = {"class_name": "GRU", "config": {"units": u, "reset_after": True, "recurrent_activation": "sigmoid",
                                           "return_sequences": True}}
    cudnn = {"class_name": "CuDNNGRU", "config": {"units": u, "return_sequences": True}}
    np.testing.assert_array_equal(oracle.forward(cudnn, [W, U, b], x),
                                  oracle.forward(gru, [W, U, b.reshape(2, 3 * u)], x))


def test_cudnn_lstm_adds_both_bias_halves():
    u, x = 2, _w(3, 4, 3)
    W, U, b = _w(3, 4 * u), _w(u, 4 * u), _w(8 * u)
    lstm = {"class_name": "LSTM", "config": {"units": u, "recurrent_activation": "sigmoid"}}
    close(oracle.forward({"class_name": "CuDNNLSTM", "config": {"units": u}}, [W, U, b], x),
                               oracle.forward(lstm, [W, U, b[:4 * u] + b[4 * u:]], x))


def test_documented_defaults():
    for name in ("GRU", "LSTM", "GRUCell", "LSTMCell"):
        cfg = oracle.normalize({"class_name": name, "config": {"units": 1}})["config"]
        assert (cfg["recurrent_activation"], cfg["implementation"]) == ("hard_sigmoid", 1)
    assert oracle.normalize({"class_name": "GRU", "config": {"units": 1}})["config"]["reset_after"] is False
    assert oracle.normalize({"class_name": "LSTM", "config": {"units": 1}})["config"]["unit_forget_bias"] is True
    with pytest.raises(ValueError, match="CuDNNGRU.*go_backwards"):
        oracle.normalize({"class_name": "CuDNNGRU", "config": {"units": 1, "go_backwards": True}})
    with pytest.raises(ValueError, match="RNN.*cell.*Dense"):
        oracle.normalize({"class_name": "RNN", "config": {"cell": {"class_name": "Dense", "config": {"units": 1}}}})
