"""Reproduce one disagreement between a backend and the conformance oracle's float64 truth.

Needs only NumPy and the one backend (its adapter, the suite's translation of a Keras config onto it, is copied
next to this file). Prints the backend's and the expected values at the worst element and exits 1 while any
element is beyond its error bound (the suite's tolerance policy), 0 once the backend agrees.
Run: python repro.py   (from this directory)
"""
import importlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main():
    with open(os.path.join(HERE, "config.json")) as f:
        spec = json.load(f)
    data = np.load(os.path.join(HERE, "arrays.npz"))
    weights = [data[f"weight{i}"] for i in range(spec["n_weights"])]
    # a multi-input layer (merge) has its inputs as x0, x1 ...; older bundles have no n_inputs
    n_inputs = spec.get("n_inputs")
    inputs = [data[f"x{i}"] for i in range(n_inputs)] if n_inputs else data["input"]
    from adapters.base import conformance_environment
    conformance_environment()  # TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow is imported; TF32 off on CUDA
    adapter = importlib.import_module(spec["adapter_module"]).ADAPTER
    run = dict(device=spec["device"], dtype=spec["dtype"])
    try:
        if spec["check"] == "gradient":
            gx, gws = adapter.vjp(spec["config"], weights, inputs, data["cotangent"], **run)
            named = {f"input_grad[{i}]": g for i, g in enumerate(gx)} if n_inputs else {"input_grad": gx}
            actual = {**named, **{f"weight_grad[{i}]": g for i, g in enumerate(gws)}}
        else:
            actual = {"output": adapter.forward(spec["config"], weights, inputs, **run)}
    except Exception as exc:  # the backend raising on a valid config is the disagreement itself
        print(f"{spec['adapter']} raised {type(exc).__name__}: {exc}")
        return 1
    shape = [tuple(a.shape) for a in inputs] if n_inputs else tuple(inputs.shape)
    print(f"{spec['layer']} {json.dumps(spec['config']['config'])} input_shape={shape} "
          f"on {spec['adapter']}/{spec['device']}/{spec['dtype']} ({spec['check']})")
    worst_ratio = 0.0
    for name, expected_key, bound_key in spec["compared"]:
        a, e, b = np.asarray(actual[name], np.float64), data[expected_key], data[bound_key]
        if a.shape != e.shape:
            print(f"  {name}.shape={a.shape}, but should be {e.shape}")
            return 1
        if a.size == 0:
            continue
        err = np.abs(a - e)
        ratio = np.where(err == 0, 0.0, err / np.where(b > 0, b, np.finfo(np.float64).tiny))
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        i = tuple(int(k) for k in np.unravel_index(int(np.argmax(ratio)), ratio.shape))
        print(f"  {name}{list(i)}: backend {float(a[i])!r}, expected {float(e[i])!r} +- {float(b[i]):.3g} "
              f"(error = {ratio[i]:.3g} x bound)")
        worst_ratio = max(worst_ratio, float(ratio[i]))
    print("DISAGREES" if worst_ratio > 1.0 else "agrees within the bound")
    return 1 if worst_ratio > 1.0 else 0


if __name__ == "__main__":
    sys.exit(main())
