"""Where the policy folders live: ``ingest/``, ``analytics/``, ``dashboards/``, ``registers/``.

A workspace may hold its own copy (``WORKSPACE/ingest`` …) that overrides the defaults; the
defaults are the checkout's top-level folders, or the copies shipped inside the wheel
(``hrss_fraud/defaults``) when the package is installed without a checkout.
"""

from __future__ import annotations

from pathlib import Path

POLICY_FOLDERS = ("ingest", "analytics", "dashboards", "registers")
_PACKAGE = Path(__file__).resolve().parent


def policy_dir(kind: str, workspace: Path | None = None) -> Path:
    if kind not in POLICY_FOLDERS:
        msg = f"unknown policy folder {kind!r}; expected one of {', '.join(POLICY_FOLDERS)}"
        raise ValueError(msg)
    candidates = []
    if workspace is not None:
        candidates.append(Path(workspace) / kind)
    candidates += [_PACKAGE.parent / kind, _PACKAGE / "defaults" / kind]
    for path in candidates:
        if path.is_dir():
            return path
    msg = f"no {kind}/ folder found (looked in: {', '.join(str(p) for p in candidates)})"
    raise FileNotFoundError(msg)


def policy_path(kind: str, sub: str, workspace: Path | None = None) -> Path:
    """``kind/sub`` from the workspace if it holds one, else from the defaults.

    Per subfolder, so a workspace that imported only its own knowledge base
    (``WORKSPACE/analytics/knowledge``) still uses the shipped rule catalogue.
    """
    if workspace is not None and (Path(workspace) / kind / sub).exists():
        return Path(workspace) / kind / sub
    return policy_dir(kind) / sub
