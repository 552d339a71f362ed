"""A deployment's data folder as one object: where everything lives, its lake, its runs,
its case store, its policy folders, and which run is the latest complete one.

Every layer from the engine up receives a :class:`Workspace`; the layers below it (the lake,
ingest, the knowledge base) receive what they need from one (``workspace.lake``, a policy
folder). A ``Workspace`` is also an :class:`os.PathLike` of its root, so code that still
joins paths onto it (``workspace / "nightly"``) reads the same.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from functools import cached_property
from pathlib import Path

import polars as pl

from hrss_fraud.engine import runs
from hrss_fraud.engine.catalogue import Catalogue, load_catalogue
from hrss_fraud.lake import Lake
from hrss_fraud.resources import policy_path
from hrss_fraud.workspace import resolve


class Workspace(os.PathLike[str]):
    """``WORKSPACE/``: ``lake/``, ``runs/`` and the centre's own copies of the policy
    folders; the layers above keep their own parts of it (the case store's
    ``cases.sqlite``: :func:`hrss_fraud.cases.store.store_path`; saved models:
    :func:`hrss_fraud.detectors.models.models_dir`)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def at(cls, explicit: str | os.PathLike[str] | None = None) -> Workspace:
        """``--workspace DIR``, else ``HRSS_FRAUD_HOME``, else ``./workspace``."""
        return cls(resolve(explicit))

    @classmethod
    def of(cls, workspace: Workspace | str | os.PathLike[str]) -> Workspace:
        """``workspace`` itself, or the workspace at a path."""
        return workspace if isinstance(workspace, Workspace) else cls(workspace)

    def __fspath__(self) -> str:
        return str(self.root)

    def __truediv__(self, part: str | os.PathLike[str]) -> Path:
        return self.root / part

    def __str__(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    # where things live
    @property
    def lake_dir(self) -> Path:
        return self.root / "lake"

    @cached_property
    def lake(self) -> Lake:
        return Lake(self.lake_dir)

    @property
    def runs_dir(self) -> Path:
        return runs.runs_dir(self.root)

    def policy_path(self, kind: str, sub: str) -> Path:
        """``kind/sub`` of the policy folders: the workspace's own copy if it has one, else
        the shipped default (:mod:`hrss_fraud.resources`)."""
        return policy_path(kind, sub, self.root)

    # what it holds
    def catalogue(self, kernels: Collection[str] | None = None) -> Catalogue:
        """The rule catalogue in force: the workspace's own, else the shipped one."""
        return load_catalogue(workspace=self.root, kernels=kernels)

    def latest_run_id(self) -> str | None:
        return runs.latest_run(self.root)

    def open_run(self, run_id: str | None = None) -> runs.Run:
        """``run_id``, default the latest complete run; :class:`RunError` if there is none."""
        return runs.open_run(self.root, run_id)

    def institution_names(self) -> pl.DataFrame | None:
        return runs.institution_names(self.lake)
