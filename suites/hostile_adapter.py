"""A backend that crashes, hangs or exhausts memory on purpose, for suites/test_workers.py: the minimal contract
adapter (suites/contract_adapter.py) on Dense, except that Dense's `units` picks a failure:
11 -> os.abort() (SIGABRT), 12 -> SIGSEGV, 13 -> sleeps for an hour, 14 -> allocates memory until killed."""
from __future__ import annotations

import os
import signal
import time

import numpy as np

from suites.contract_adapter import ReferenceAdapter


def _misbehave(units: int) -> None:
    if units == 11:
        os.abort()
    if units == 12:
        os.kill(os.getpid(), signal.SIGSEGV)
    if units == 13:
        time.sleep(3600)
    if units == 14:
        hoard = []
        while True:  # 64 MiB at a time, touched so that it is resident
            hoard.append(np.ones(8 * 2 ** 20))
            time.sleep(0.005)


class HostileAdapter(ReferenceAdapter):
    name = "hostile"

    def _forward(self, config, weights, x, *, device, dtype, training, seed):
        _misbehave(config["config"].get("units"))
        return super()._forward(config, weights, x, device=device, dtype=dtype, training=training, seed=seed)


ADAPTER = HostileAdapter()
