"""The notebooks run top to bottom on the fixtures, with no network, and fail on any error."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXPECTED = {
    "01-quickstart",
    "02-triage-bad-calls",
    "03-call-trees",
    "04-preflight-probes",
    "05-export-to-pipeline",
}


def test_the_five_notebooks_are_there_without_outputs() -> None:
    nbformat = pytest.importorskip("nbformat")
    assert {p.stem for p in NOTEBOOKS} == EXPECTED
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: outputs are committed"
                assert cell.execution_count is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # The kernel imports voiceinsights from this checkout and works in a scratch folder.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(path, work / path.name)
    # The committed fixtures, where the notebooks look first (else they regenerate them).
    shutil.copytree(REPO / "data" / "fixtures", work / "fixtures")
    book = nbformat.read(work / path.name, as_version=4)
    client = nbclient.NotebookClient(
        book,
        timeout=240,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        out
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("output_type") == "error"
    ]
    assert errors == []
    # The figures were produced as plotly figures (not blank outputs).
    plotly_outputs = [
        out
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if "application/vnd.plotly.v1+json" in out.get("data", {})
    ]
    assert plotly_outputs, f"{path.name} showed no figure"
    for out in plotly_outputs:
        assert out["data"]["application/vnd.plotly.v1+json"]["data"], path.name
