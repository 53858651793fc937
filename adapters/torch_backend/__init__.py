"""The PyTorch adapter as a package; importing it imports no torch (torch is imported on first use).

Imports go one way: ops.py (shared helpers) <- one module per layer family <- layers.py (the one table:
class name -> forward / training / mask / weight layout) <- adapter.py (TorchAdapter, dispatching through it).
"""
from .adapter import ADAPTER, TorchAdapter

__all__ = ["ADAPTER", "TorchAdapter"]
