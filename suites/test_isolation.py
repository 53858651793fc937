"""The oracle and the adapter registry import no framework (DESIGN.md non-negotiables)."""
import subprocess
import sys

FRAMEWORKS = ("tensorflow", "torch", "keras", "tf_keras", "jax")


def test_oracle_and_adapter_registry_import_no_framework():
    code = ("import sys, oracle, adapters, suites.strategies, suites.tolerance; "
            f"loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]; "
            "assert not loaded, f'imported at import time: {loaded}'; "
            "[adapters.get(n) for n in adapters.names()]; "
            f"loaded = [m for m in {FRAMEWORKS!r} if m in sys.modules]; "
            "assert not loaded, f'adapter modules imported {loaded} before first use'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
