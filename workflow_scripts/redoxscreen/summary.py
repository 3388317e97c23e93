"""The run summary printed at the end of `make run`: accuracy per target, candidates per role."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from redoxscreen.features import GRAPH

FINGERPRINT_NAMES = {"count": "Morgan counts", "bit": "Morgan bits",
                     "count_ap": "Morgan + atom-pair counts"}  # fmt: skip


def architecture_text(architecture: Mapping) -> str:
    """The selected grid model in words, e.g. `grid model 27: message passing, depth 3, ...`."""
    model = f"grid model {architecture['model']}: "
    if architecture["fingerprint"] == GRAPH:
        return (f"{model}message passing, depth {architecture['radius']}, width "
                f"{architecture['n_bits']}, head {architecture['hidden_layers']}")  # fmt: skip
    kind = FINGERPRINT_NAMES.get(architecture["fingerprint"], architecture["fingerprint"])
    described = " and RDKit descriptors" if architecture["descriptors"] else ""
    return (f"{model}{kind}{described}, radius {architecture['radius']}, "
            f"{architecture['n_bits']} bits, layers {architecture['hidden_layers']}")  # fmt: skip


def target_line(target: str, metrics: Mapping) -> str:
    oof = metrics["out_of_fold"]
    interval = metrics["interval_95"]
    return (
        f"- {target} ({architecture_text(metrics['architecture'])}): out-of-fold MAE {oof['mae']:.3f} {metrics['unit']}, R² {oof['r2']:.3f}, "
        f"mean residual {oof['mean_residual']:+.3f}, residual SD {oof['residual_sd']:.3f} "
        f"(n = {oof['n']}); 95 % interval "
        f"±{interval['conformal']['half_width']:.3f} (conformal, coverage "
        f"{interval['conformal']['coverage']:.3f}) / ±{interval['gaussian']['half_width']:.3f} "
        f"(1.96 σ, coverage {interval['gaussian']['coverage']:.3f})" + ensemble_text(metrics)
    )


def ensemble_text(metrics: Mapping) -> str:
    """The ensemble's accuracy and per-molecule interval on its calibration set, if any."""
    ensemble = metrics["interval_95"].get("ensemble")
    if not ensemble:
        return ""
    low, high = ensemble["half_width_5_95"]
    return (
        f"; ensemble of the fold models on {ensemble['n_calibration']} calibration molecules: "
        f"MAE {ensemble['ensemble_metrics']['mae']:.3f}, per-molecule 95 % interval "
        f"±{low:.3f}–{high:.3f} (median ±{ensemble['median_half_width']:.3f}, coverage "
        f"{ensemble['coverage']:.3f})"
    )


def run_summary(
    metric_paths: Mapping[str, str],
    counts_path: str | None,
    library_counts: Mapping[str, str] | None = None,
) -> str:
    """The summary's Markdown; ``counts_path`` None where the run screens nothing;
    ``library_counts``: each library's counts.tsv by its name under ``screen``."""
    lines = [
        "# redoxscreen run summary",
        "",
        "## Final models (honest: out-of-fold, and unseen calibration molecules)",
    ]
    for target, path in metric_paths.items():
        lines.append(target_line(target, json.loads(Path(path).read_text())))
    lines += ["", "## Candidates among the data set's molecules", ""]
    if counts_path is None:
        lines.append(
            "None screened: screening.oxidation_target and screening.reduction_target are null."
        )
    else:
        lines.append(counts_table(counts_path))
    for library, path in (library_counts or {}).items():
        lines += ["", f"## Candidates in library `{library}`", "", counts_table(path)]
    return "\n".join(lines) + "\n"


def counts_table(path: str) -> str:
    return pd.read_csv(path, sep="\t").to_markdown(index=False)
