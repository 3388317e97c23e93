"""The architecture grid: reading it, gathering fold metrics, and choosing a model per target.

A row whose fingerprint is ``graph`` is a message-passing network: ``radius`` is its depth
(message-passing steps), ``n_bits`` the width of the fingerprint it learns and
``hidden_layers`` its feed-forward head (``config/grid_mpnn.tsv``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from redoxscreen import descriptors
from redoxscreen.features import SPEC_KINDS, FingerprintSpec
from redoxscreen.tables import text_table_rows

GRID_COLUMNS = ("model", "radius", "n_bits", "hidden_layers")
OPTIONAL_FINGERPRINT_COLUMN = "fingerprint"  # a kind per row; blank: training.fingerprint


def parse_layers(text: str | Sequence[int]) -> tuple[int, ...]:
    """Hidden layer widths from ``"1024-512-256"`` (or a list)."""
    if isinstance(text, str):
        try:
            widths = tuple(int(part) for part in text.split("-"))
        except ValueError:
            raise ValueError(f"hidden layers must look like 1024-512-256, not {text!r}") from None
    else:
        widths = tuple(int(width) for width in text)
    if not widths or min(widths) < 1:
        raise ValueError(f"hidden layers need at least one positive width, not {text!r}")
    return widths


@dataclass(frozen=True)
class Architecture:
    model: int
    radius: int
    n_bits: int
    hidden_layers: tuple[int, ...]
    fingerprint: str | None = None  # None: the configured training.fingerprint

    @property
    def layers_text(self) -> str:
        return "-".join(map(str, self.hidden_layers))


def parse_fingerprint_kind(text: str) -> str | None:
    """A grid row's fingerprint kind; a blank cell means the configured default."""
    kind = text.strip()
    if not kind:
        return None
    if kind not in SPEC_KINDS:
        raise ValueError(f"fingerprint must be one of {SPEC_KINDS} or blank, not {kind!r}")
    return kind


def read_grid(path: str) -> dict[int, Architecture]:
    """The grid table (model, radius, n_bits, hidden_layers[, fingerprint]), keyed by model id;
    a bad row is refused with its line."""
    header, rows = text_table_rows(path, ".tsv")
    missing = [column for column in GRID_COLUMNS if column not in header]
    if missing:
        raise ValueError(
            f"{path}: missing columns {missing} (the tab-separated header reads {header}); "
            f"expected {list(GRID_COLUMNS)}, separated by tabs"
        )
    grid = {}
    for line, cells in rows:
        try:
            architecture = grid_row(dict(zip(header, cells, strict=True)))
        except ValueError as error:
            raise ValueError(f"{path} line {line}: {error}") from error
        if architecture.model in grid:
            raise ValueError(f"{path} line {line}: model id {architecture.model} appears twice")
        grid[architecture.model] = architecture
    return grid


def grid_row(row: dict[str, str]) -> Architecture:
    """One row's architecture, checked as the featurizer checks its sizes (n_bits a multiple
    of 8 for hashed kinds)."""
    architecture = Architecture(
        int(row["model"]),
        int(row["radius"]),
        int(row["n_bits"]),
        parse_layers(row["hidden_layers"]),
        parse_fingerprint_kind(row.get(OPTIONAL_FINGERPRINT_COLUMN, "")),
    )
    FingerprintSpec(architecture.radius, architecture.n_bits, architecture.fingerprint or "count")
    return architecture


def gather_fold_metrics(paths: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame([json.loads(open(path).read()) for path in paths])


def mae_table(fold_metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over folds of the held-out MAE for each model, best first."""
    if "descriptors" not in fold_metrics:  # metrics written before descriptors existed
        fold_metrics = fold_metrics.assign(descriptors=False)
    grouped = fold_metrics.groupby("model")
    table = grouped.agg(
        radius=("radius", "first"),
        n_bits=("n_bits", "first"),
        hidden_layers=("hidden_layers", "first"),
        fingerprint=("fingerprint", "first"),
        descriptors=("descriptors", "first"),
        val_mae_mean=("val_mae", "mean"),
        val_mae_sd=("val_mae", lambda mae: mae.std(ddof=1) if len(mae) > 1 else 0.0),
        val_r2_mean=("val_r2", "mean"),
        folds=("fold", "count"),
        epochs_mean=("epochs", "mean"),
        train_seconds=("train_seconds", "sum"),
    ).reset_index()
    table["n_weights"] = table.apply(weight_count, axis=1)
    return rank_models(table)


def weight_count(row) -> int:
    spec = FingerprintSpec(int(row.radius), int(row.n_bits), row.fingerprint)
    inputs = spec.width + (len(descriptors.NAMES) if row.descriptors else 0)
    widths = [inputs, *parse_layers(row.hidden_layers), 1]
    head = sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return head + (message_passing_weights(spec.n_bits) if spec.learned else 0)


def message_passing_weights(hidden: int) -> int:
    """Weights of a message-passing network before its head (``message_passing``)."""
    from redoxscreen.graphs import ATOM_FEATURES, BOND_FEATURES

    bond_input = (ATOM_FEATURES + BOND_FEATURES) * hidden
    return bond_input + hidden * hidden + (ATOM_FEATURES + hidden) * hidden + hidden


def rank_models(table: pd.DataFrame) -> pd.DataFrame:
    """Lowest mean MAE first; ties go to the lower SD, then the smaller network, then the id."""
    order = ["val_mae_mean", "val_mae_sd", "n_weights", "model"]
    return table.sort_values(order, kind="stable").reset_index(drop=True)


def selection(table: pd.DataFrame, target: str) -> dict:
    best = table.iloc[0]
    return {
        "target": target,
        "model": int(best.model),
        "radius": int(best.radius),
        "n_bits": int(best.n_bits),
        "hidden_layers": str(best.hidden_layers),
        "fingerprint": str(best.fingerprint),
        "val_mae_mean": float(best.val_mae_mean),
        "val_mae_sd": float(best.val_mae_sd),
        "runner_up": int(table.iloc[1].model) if len(table) > 1 else None,
        "rule": "lowest mean held-out MAE over folds; ties: lower SD, fewer weights, lower id",
    }


def select_and_report(
    metric_paths: Sequence[str],
    target: str,
    unit: str,
    table_path: str,
    heatmap_path: str,
    selected_path: str,
) -> dict:
    """Gather fold metrics, rank the models, draw the heatmap and write the selection."""
    import logging

    import yaml

    from redoxscreen.plots import mae_heatmap
    from redoxscreen.tables import atomic_path, write_table

    table = mae_table(gather_fold_metrics(metric_paths))
    write_table(table, table_path)
    mae_heatmap(table, target, unit, heatmap_path)
    chosen = selection(table, target) | {"unit": unit}
    with atomic_path(selected_path) as temporary:
        temporary.write_text(yaml.safe_dump(chosen, sort_keys=False))
    logging.getLogger(__name__).info(
        "%s: selected model %d (MAE %.4f +- %.4f %s)",
        target, chosen["model"], chosen["val_mae_mean"], chosen["val_mae_sd"], unit,
    )  # fmt: skip
    return chosen
