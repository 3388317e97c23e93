"""The run summary printed at the end of `make run`: accuracy per target, candidates per role."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from redoxscreen.features import GRAPH
from redoxscreen.screening import CRITERIA_COLUMNS, band_text, level_text, recorded_intervals

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
    interval = recorded_intervals(metrics)
    return (
        f"- {target} ({architecture_text(metrics['architecture'])}): out-of-fold MAE {oof['mae']:.3f} {metrics['unit']}, R² {oof['r2']:.3f}, "
        f"mean residual {oof['mean_residual']:+.3f}, residual SD {oof['residual_sd']:.3f} "
        f"(n = {oof['n']}); {level_text(interval['level'])} interval "
        f"±{interval['conformal']['half_width']:.3f} (conformal, coverage "
        f"{interval['conformal']['coverage']:.3f}) / ±{interval['gaussian']['half_width']:.3f} "
        f"(gaussian, coverage {interval['gaussian']['coverage']:.3f})" + ensemble_text(metrics)
    )


def ensemble_text(metrics: Mapping) -> str:
    """The ensemble's accuracy and per-molecule interval on its calibration set, if any."""
    ensemble = recorded_intervals(metrics).get("ensemble")
    if not ensemble:
        return ""
    low, high = ensemble["half_width_5_95"]
    return (
        f"; ensemble of the fold models on {ensemble['n_calibration']} calibration molecules: "
        f"MAE {ensemble['ensemble_metrics']['mae']:.3f}, per-molecule interval "
        f"±{low:.3f}–{high:.3f} from its 5th to its 95th percentile (median "
        f"±{ensemble['median_half_width']:.3f}, coverage {ensemble['coverage']:.3f})"
    )


def selection_text(selected: Mapping, grid: pd.DataFrame) -> str:
    """Why the grid chose its model: its mean held-out MAE, and the runner-up's."""
    by_model = grid.set_index("model")["val_mae_mean"]
    unit = f" {selected['unit']}" if selected.get("unit") else ""
    chosen = (f"; chosen among {len(grid)} grid models by its mean held-out MAE over "
              f"{int(grid['folds'].max())} folds, {selected['val_mae_mean']:.4f}{unit}")  # fmt: skip
    runner_up = selected.get("runner_up")
    if runner_up is None:
        return chosen
    return f"{chosen} (runner-up: model {runner_up}, {by_model[runner_up]:.4f}{unit})"


def roles_text(counts: pd.DataFrame, collector_max_v: float | None) -> str:
    """What the candidate counts count, from the criteria that ``counts`` (a counts.tsv)
    records: each role's potential and band, and each electrolyte's window."""
    roles = "; ".join(role_text(row) for row in counts.drop_duplicates("role").itertuples())
    windows = "; ".join(
        window_text(row, collector_max_v)
        for row in counts.drop_duplicates("electrolyte").itertuples()
    )
    estimate = (
        "estimate (its whole interval where a role says 'whole interval')"
        if counts["margin_on_band"].any()
        else "estimate"
    )
    return (
        f"Roles ({roles}): a candidate's {estimate} lies in its role's band and its whole "
        f"interval inside the electrolyte's window ({windows})."
    )


def role_text(row) -> str:
    band = band_text(row.band_min_v, row.band_max_v)
    open_band = pd.isna(row.band_min_v) and pd.isna(row.band_max_v)
    whole = ", whole interval" if row.margin_on_band and not open_band else ""
    return f"{row.role}: {row.potential} potential {band}{whole}"


def window_text(row, collector_max_v: float | None) -> str:
    capped = collector_max_v is not None and row.upper_limit_v == collector_max_v
    cap = ", capped by the current collector" if capped else ""
    return f"{row.electrolyte} {row.reduction_limit_v:g}–{row.upper_limit_v:g} V{cap}"


def run_summary(
    metric_paths: Mapping[str, str],
    counts_path: str | None,
    library_counts: Mapping[str, str] | None = None,
    selections: Mapping[str, tuple[str, str]] | None = None,
    collector_max_v: float | None = None,
) -> str:
    """The summary's Markdown; ``counts_path`` None where the run screens nothing;
    ``library_counts``: each library's counts.tsv by its name under ``screen``;
    ``selections``: each target's grid ``selected.yaml`` and ``mae_table.tsv``;
    ``collector_max_v``: the current collector's cap, which the summary marks where it
    limits a window."""
    import yaml

    lines = [
        "# redoxscreen run summary",
        "",
        "## Final models (honest: out-of-fold, and unseen calibration molecules)",
    ]
    for target, path in metric_paths.items():
        line = target_line(target, json.loads(Path(path).read_text()))
        if selections and target in selections:
            selected, table = selections[target]
            line += selection_text(yaml.safe_load(Path(selected).read_text()),
                                   pd.read_csv(table, sep="\t"))  # fmt: skip
        lines.append(line)
    lines += ["", "## Candidates among the data set's molecules", ""]
    if counts_path is None:
        lines.append(
            "None screened: screening.oxidation_target and screening.reduction_target are null."
        )
    else:
        counts = pd.read_csv(counts_path, sep="\t")
        if not counts.empty:
            lines += [roles_text(counts, collector_max_v), ""]
        lines.append(counts_table(counts))
    for library, path in (library_counts or {}).items():
        counts = pd.read_csv(path, sep="\t")
        lines += ["", f"## Candidates in library `{library}`", "", counts_table(counts)]
    return "\n".join(lines) + "\n"


def counts_table(counts: pd.DataFrame) -> str:
    """The counts without what they were judged by, which the roles line says."""
    return counts.drop(columns=CRITERIA_COLUMNS).to_markdown(index=False)
