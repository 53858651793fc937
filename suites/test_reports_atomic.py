"""Report files are replaced atomically (reports/atomic.py): a write that fails part-way leaves the previous file
whole and no temporary file behind; a build writes every file through it."""
from __future__ import annotations

import os

import pytest

from reports import atomic
from reports.atomic import write_atomic


def test_a_write_that_fails_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "index.html"
    write_atomic(path, "<p>old</p>")
    real = os.replace

    def interrupted(src, dst):  # the data is on disk, the rename never happens (Ctrl-C at the worst moment)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "<p>new</p>" * 1000)
    assert path.read_text() == "<p>old</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
    monkeypatch.setattr(atomic.os, "replace", real)
    write_atomic(path, b"<p>new</p>")
    assert path.read_bytes() == b"<p>new</p>"


def test_the_build_writes_through_it(tmp_path, monkeypatch):
    from reports.build import build
    results = tmp_path / "results.jsonl"
    results.write_text("")
    written = []
    monkeypatch.setattr("reports.build.write_atomic", lambda p, d: (written.append(p.name), write_atomic(p, d)))
    monkeypatch.setattr("reports.results_file.write_atomic", lambda p, d: (written.append(p.name), write_atomic(p, d)))
    build([results], tmp_path / "out")
    assert {"index.html", "junit.xml", "results.json", "results.json.gz"} <= set(written)
