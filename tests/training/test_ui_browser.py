"""`salary ui` in a real browser: the runs a data scientist trained, with their metrics, where they look.

A real `salary ui` process serves a store this test trains, and Debian's Chromium, driven by Playwright,
reads the pages. On failure a screenshot of the page is left in the test's tmp folder.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient
from mlflow_process import MlflowServer

from models import registry
from training.compare import compare_page
from training.evaluate import HEADLINE
from training.sources.demo import write_demo
from training.train import TrainConfig, TrainResult, train

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Chromium in a sandbox without network: no GPU, no background calls, no first-run pages.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SALARY = "from training.cli import app; app()"  # `salary` where the console script is not installed
PAGE_TIMEOUT_MS = 120_000  # a deadline on a loaded shared machine, not a speed assertion


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium (or $SALARY_CHROMIUM), looked for before anything is trained or started.

    In CI its absence fails the test (.ci/run installs it); elsewhere it skips it.
    """
    found = os.environ.get("SALARY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    why = "needs Debian's chromium (`apt-get install chromium` as root; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(f"{why}, and CI must run the browser test")
    pytest.skip(why)


class SalaryUi(MlflowServer):
    """`salary ui` on the store in `root`, as a user starts it there."""

    def command(self) -> list[str]:
        """The installed `salary` command beside this Python, else the same app through `-c`."""
        script = Path(sys.executable).with_name("salary")
        head = [str(script)] if script.exists() else [sys.executable, "-c", SALARY]
        return [*head, "ui", "--port", str(self.port)]

    def environment(self) -> dict[str, str]:
        """This environment, pointed at the store."""
        return {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{self.root / 'mlflow.db'}"}

    def runs_link(self) -> str:
        """The runs page `salary ui` printed for the user to open."""
        found = re.search(r"http://\S+/#/experiments/\S+", self.log_tail())
        assert found, f"salary ui printed no link to the runs: {self.log_tail()}"
        return found.group(0)


@pytest.fixture(scope="module")
def trained_store(
    chromium: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, list[TrainResult]]]:
    """The demo trained twice with tiny settings, with the baselines beside each run."""
    root = tmp_path_factory.mktemp("ui-store")
    data = write_demo(root / "demo.csv", n=1200, seed=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
        results = [
            train(TrainConfig(data=data, num_boost_round=rounds, params={"num_threads": 1}))
            for rounds in (20, 5)
        ]
        yield root, results


@pytest.fixture(scope="module")
def ui(trained_store: tuple[Path, list[TrainResult]]) -> Iterator[SalaryUi]:
    """A running `salary ui` on the trained store."""
    with SalaryUi(trained_store[0]).running() as server:
        yield server


@pytest.fixture()
def page(chromium: str) -> Iterator[Any]:
    """A fresh headless Chromium page, in a new empty profile."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("needs the playwright package (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        # Wide enough that the grid renders every headline column (it draws only the visible ones).
        tab = browser.new_page(viewport={"width": 2600, "height": 1000})
        tab.set_default_timeout(PAGE_TIMEOUT_MS)
        try:
            yield tab
        finally:
            browser.close()


@contextmanager
def shown_on_failure(page: Any, folder: Path) -> Iterator[None]:
    """On any failure, leave a screenshot and the page's text in `folder` for whoever reads the report."""
    try:
        yield
    except BaseException:
        page.screenshot(path=str(folder / "ui-failure.png"), full_page=True)
        (folder / "ui-failure.txt").write_text(page.inner_text("body"))
        raise


def test_the_runs_page_lists_the_training_runs_with_their_mae(
    ui: SalaryUi, trained_store: tuple[Path, list[TrainResult]], page: Any, tmp_path: Path
) -> None:
    with shown_on_failure(page, tmp_path):
        check_runs_page(ui, trained_store[1], page)


def check_runs_page(ui: SalaryUi, results: list[TrainResult], page: Any) -> None:
    """The page `salary ui` links to: every run of the store with its MAE, under the headline columns."""
    page.goto(ui.runs_link())
    page.get_by_text(repr(results[0].metrics["mae"])).wait_for()
    text = page.inner_text("body")
    assert "Token Usage" not in text and "Traces" in text  # the model training view, not GenAI's
    # The headline columns are shown, left to right in HEADLINE's order (the grid's DOM is alphabetical).
    lefts = []
    for name in HEADLINE:
        header = page.locator(f'[role=columnheader][col-id="metrics.`{name}`"]')
        assert header.inner_text().strip() == name
        lefts.append(header.bounding_box()["x"])
    assert lefts == sorted(lefts)
    client = MlflowClient()
    for result in results:
        for run_id in (result.run_id, *result.baseline_runs.values()):
            run = client.get_run(run_id)
            assert run.info.run_name in text
            assert repr(run.data.metrics["mae"]) in text, f"{run.info.run_name}'s MAE is not on the page"
    assert f"{len(results) * 3} matching runs" in text


def test_the_compare_page_of_two_runs_shows_their_metrics(
    ui: SalaryUi, trained_store: tuple[Path, list[TrainResult]], page: Any, tmp_path: Path
) -> None:
    with shown_on_failure(page, tmp_path):
        check_compare_page(ui, trained_store[1][0], page)


def check_compare_page(ui: SalaryUi, first: TrainResult, page: Any) -> None:
    """The UI's compare page of a LightGBM run and its group-median baseline: both runs' metrics."""
    compared = [first.run_id, first.baseline_runs["group_median"]]
    experiment = MlflowClient().get_experiment_by_name(registry.EXPERIMENT).experiment_id
    page.goto(compare_page(f"http://127.0.0.1:{ui.port}", experiment, compared))
    page.get_by_text("Comparing 2 Runs").wait_for()
    page.get_by_text("mae", exact=True).first.wait_for(state="attached")
    text = page.inner_text("body")
    assert "lightgbm-demo" in text and "group_median-demo" in text
    plotted = text.split("Metrics:", 1)[1].split("Clear All", 1)[0].split()
    assert plotted == ["mae"]  # the parallel coordinates plot starts from MAE, not a row count
    shown = compared_metrics(page)
    client = MlflowClient()
    for column, run_id in enumerate(compared):
        logged = client.get_run(run_id).data.metrics
        for name in HEADLINE:  # the page rounds: 30180.2, 0.526
            assert float(shown[name][column]) == pytest.approx(logged[name], rel=1e-3, abs=1e-3), name


# Each metric row of the compare page's table: its name in one grid, the runs' values in the next, at the
# same height; both grids draw only the rows near what is scrolled into view.
GRID_ROWS = """([names, values]) => {
  const rows = grid => Array.from(grid.querySelectorAll('[role=rowgroup] > div'))
    .map(row => [row.style.top, row.innerText.trim()]);
  return [rows(names), rows(values)];
}"""


def compared_metrics(page: Any) -> dict[str, list[str]]:
    """The compare page's metrics table as shown, scrolled through: metric name -> values, one per run."""
    grids = page.locator("[role=grid]")
    names, values = grids.nth(0), grids.nth(1)
    height = names.evaluate("grid => grid.firstElementChild.scrollHeight")
    shown: dict[str, list[str]] = {}
    for top in range(0, height, 150):
        for grid in (names, values):
            grid.evaluate("(grid, top) => { grid.scrollTop = top; }", top)
        page.wait_for_timeout(300)
        named, valued = grids.evaluate_all(GRID_ROWS)
        cells: dict[str, list[str]] = {}
        for at, value in valued:
            cells.setdefault(at, []).append(value)
        shown.update({name: cells[at] for at, name in named if at in cells})
    return shown
