"""Report files written atomically: a reader (a browser, CI's artifact upload, the next `reports diff`) sees the
previous file or the new one, never half of one, even when the build is interrupted or fails while writing."""
from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to a temporary file beside `path`, flush it to disk, then rename it over
    `path` (os.replace is atomic on one file system); the temporary file is removed if anything fails."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
