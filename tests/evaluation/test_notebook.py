"""The evaluation notebook runs headless on the tiny county with one seed, shows the
summary, the plots without a CDN and the verdict."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "evaluation.ipynb"
CDN_SCRIPT = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.IGNORECASE)


def _texts(nb: nbformat.NotebookNode) -> list[str]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if "text" in o:
                out.append(o["text"])
            for value in o.get("data", {}).values():
                out.append(value if isinstance(value, str) else str(value))
    return out


def test_the_committed_notebook_has_no_outputs_and_defaults_to_three_seeds() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert '"HRSS_EVAL_SEEDS", "1,2,3"' in "".join(c.source for c in nb.cells)


@pytest.mark.slow
def test_the_notebook_runs_on_the_tiny_county_with_one_seed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the kernel inherits this process's environment
    monkeypatch.setenv("HRSS_EVAL_SEEDS", "3")
    monkeypatch.setenv("HRSS_EVAL_PRESET", "tiny")
    monkeypatch.setenv("HRSS_EVAL_LANG", "zh")
    monkeypatch.setenv("HRSS_EVAL_WORK", str(tmp_path / "work"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    texts = _texts(nb)
    joined = "\n".join(texts)
    assert "seeds [3], preset tiny" in joined
    assert "规则遗漏方案最低召回率" in joined and "检查名单精确率@K(10%)" in joined
    assert "对照议题5与议题16的目标（1个种子" in joined and "结论：" in joined
    html = [t for t in texts if "window.Plotly" in t]
    assert len(html) == 4
    assert not any(CDN_SCRIPT.search(t) for t in texts)
    assert (tmp_path / "work" / "seed-3" / "workspace" / "runs" / "LATEST").is_file()
