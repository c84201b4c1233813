"""notebooks/02_compare_models.ipynb runs top to bottom against a store the tests create."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from training.evaluate import HEADLINE

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_compare_models.ipynb"


def test_compare_notebook_runs_against_a_fresh_store(in_two_model_store: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    where = {"metadata": {"path": str(in_two_model_store)}}
    NotebookClient(notebook, kernel_name="python3", timeout=300, resources=where).execute()
    text = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    # Two trainings, each with the baselines beside it (the group-median run gets the global median only).
    assert "5 of 5 runs share evaluation set" in text
    assert "group_median" in text and "global_median" in text
    assert f"headline metrics: {', '.join(HEADLINE)}" in text
    table = next(o["data"]["text/plain"] for c in notebook.cells for o in c.get("outputs", [])
                 if "mae_vs_group_median" in str(o.get("data", {}).get("text/plain", "")))
    assert all(name in table for name in HEADLINE)
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # the MAE chart and one residual plot per model
