"""The report as a user sees it: index.html opened from disk in a real headless Chromium (Debian's chromium and
chromium-driver, installed by `make test` through the Makefile's `browser` target).

The page loads without console errors, the matrix shows the expected cells, clicking a cell opens its drill-down,
and a screenshot is written to the test output directory. A missing browser FAILS the test (with how to install
it): `make test` installs it, so a skip would only hide a broken set-up.
"""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from reports.build import build
from reports.validate import record_errors

from .test_reports import CONV_REPLAY, RECORDS

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = ("headless Chromium is missing: run `make browser` (or as root: apt-get update && apt-get install -y "
           "--no-install-recommends chromium chromium-driver); `make test` does this itself")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1800")


@pytest.fixture
def browser(tmp_path: Path):
    """A headless Chromium session whose console messages can be read (browser log level ALL)."""
    if not (shutil.which("chromium") or Path(CHROMIUM).exists()) or not Path(CHROMEDRIVER).exists():
        pytest.fail(INSTALL)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # with the driver path below, Selenium Manager has nothing to fetch
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def severe(driver) -> list[dict]:
    """Console messages of level SEVERE since the last call (errors, failed loads)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def output_dir(config: pytest.Config) -> Path:
    """The run's --report-dir (make test: results/test), else results/test in the repository."""
    where = config.getoption("--report-dir")
    return Path(where) if where else ROOT / "results" / "test"


@pytest.fixture
def report(tmp_path: Path) -> Path:
    """index.html built from the small known records of test_reports.py (each valid under the record schema)."""
    records = copy.deepcopy(RECORDS)
    for r in records:  # complete configs (the oracle's required kernel_size), so reproducer bundles are written
        if r["layer"] == "Conv2D":
            r["config"]["config"]["kernel_size"] = [3, 3]
        r["family"] = {"Conv2D": "convolution", "Dense": "core"}[r["layer"]]
    assert all(record_errors(r) == [] for r in records)
    results = tmp_path / "run" / "results.jsonl"
    results.parent.mkdir()
    (results.parent / "environment.json").write_text(json.dumps({"torch": "2.13.0+cpu", "python": "3.11"}))
    results.write_text("".join(json.dumps(r) + "\n" for r in records))
    build([results], tmp_path / "out")
    return tmp_path / "out" / "index.html"


def test_console_errors_are_seen(browser, tmp_path: Path) -> None:
    """The console check can fail: a page that logs an error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>console.error('planted error')</script>")
    browser.get(page.as_uri())
    assert any("planted error" in e["message"] for e in severe(browser))


def test_report_in_browser(browser, report: Path, request: pytest.FixtureRequest) -> None:
    from selenium.webdriver.common.by import By
    browser.get(report.as_uri())
    assert browser.title == "Layer conformance report"
    assert severe(browser) == []
    assert browser.find_elements(By.CSS_SELECTOR, "div.notice") == []  # no warnings: bundles written, all read

    # the matrix: rows Conv2D and Dense x columns tf_keras/cpu/float32 and torch/cpu/float32
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table.matrix tr:first-child th")]
    assert heads == ["layer", "tf_keras / cpu / float32", "torch / cpu / float32"]
    cells = browser.find_elements(By.CSS_SELECTOR, "table.matrix td")
    got = [(c.get_attribute("class"), c.text) for c in cells]
    assert [cls for cls, _ in got] == ["warn", "bad", "skip", "bad"]
    assert "1 pass" in got[0][1] and "1 known-divergence" in got[0][1]
    assert "2 pass" in got[1][1] and "1 fail" in got[1][1] and "worst 3.5×" in got[1][1]
    assert "2 unsupported" in got[2][1] and "1 error" in got[3][1]

    # a drill-down is closed until its cell is clicked; then it opens and shows the failing case and its replay
    drill = browser.find_element(By.ID, "cell-Conv2D-torch-cpu-float32")
    replay = drill.find_element(By.CSS_SELECTOR, "code.replay")
    assert drill.get_attribute("open") is None and not replay.is_displayed()
    cells[1].find_element(By.CSS_SELECTOR, "a.cell-link").click()
    assert drill.get_attribute("open") is not None and replay.is_displayed()
    assert replay.text == CONV_REPLAY
    assert "repro.py" in drill.text
    assert drill.find_element(By.CSS_SELECTOR, "svg.histogram").is_displayed()
    # a <summary> opens its section too
    other = browser.find_element(By.ID, "cell-Conv2D-tf_keras-cpu-float32")
    other.find_element(By.TAG_NAME, "summary").click()
    assert other.get_attribute("open") is not None and "tf-conv-grad" in other.text
    assert severe(browser) == []

    out = output_dir(request.config)
    out.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    shot = out / "screenshot-report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    drill_shot = out / "screenshot-report-drilldown.png"
    browser.execute_script("arguments[0].scrollIntoView()", drill)
    assert browser.save_screenshot(str(drill_shot))
    print(f"screenshots: {shot} {drill_shot}")
