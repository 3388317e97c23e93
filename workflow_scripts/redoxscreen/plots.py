"""Figures: matplotlib, written atomically as PNG."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from redoxscreen.tables import atomic_path  # noqa: E402


def save_figure(figure, path: str) -> None:
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=150, bbox_inches="tight")
    plt.close(figure)


def mae_heatmap(table: pd.DataFrame, target: str, unit: str, path: str) -> None:
    """Mean held-out MAE for each (radius, bits[, kind]) column and hidden-layer row; best bold."""
    several_kinds = table.fingerprint.nunique() > 1
    table = table.assign(
        features=[
            f"r{r}\n{b}" + (f"\n{kind}" if several_kinds else "")
            for r, b, kind in zip(table.radius, table.n_bits, table.fingerprint, strict=True)
        ]
    )
    grid = table.pivot_table(index="hidden_layers", columns="features", values="val_mae_mean")
    ids = table.pivot_table(index="hidden_layers", columns="features", values="model")
    figure, axes = plt.subplots(figsize=(1.3 * grid.shape[1] + 2.5, 0.7 * grid.shape[0] + 1.5))
    image = axes.imshow(grid.to_numpy(), cmap="viridis_r", aspect="auto")
    axes.set_xticks(range(grid.shape[1]), grid.columns)
    axes.set_yticks(range(grid.shape[0]), grid.index)
    best = table.iloc[0]
    for (row, column), value in np.ndenumerate(grid.to_numpy()):
        if np.isnan(value):
            continue
        model = int(ids.iat[row, column])
        weight = "bold" if model == int(best.model) else "normal"
        light_cell = image.norm(value) < 0.5  # viridis_r: low MAE is light yellow
        axes.text(column, row, f"m{model}\n{value:.3f}", ha="center", va="center",
                  color="black" if light_cell else "white", fontsize=8, fontweight=weight)  # fmt: skip
    figure.colorbar(image, ax=axes, label=f"mean held-out MAE ({unit})")
    axes.set_xlabel("fingerprint radius and bits" + (" and kind" if several_kinds else "")
                    + ("\n(graph: message-passing steps and width)" if "graph" in set(table.fingerprint) else ""))  # fmt: skip
    axes.set_ylabel("hidden layers")
    axes.set_title(f"{target}: model grid (best m{int(best.model)}, bold)")
    save_figure(figure, path)


def parity_plot(y_true, y_pred, target: str, unit: str, metrics: dict, path: str) -> None:
    """Out-of-fold predictions against DFT labels, with the identity line and the metrics."""
    figure, axes = plt.subplots(figsize=(5.2, 5))
    axes.scatter(y_true, y_pred, s=6, alpha=0.5, linewidths=0)
    low = min(np.min(y_true), np.min(y_pred))
    high = max(np.max(y_true), np.max(y_pred))
    axes.plot([low, high], [low, high], color="black", linewidth=1)
    axes.set_xlabel(f"{target} label ({unit})")
    axes.set_ylabel(f"{target} out-of-fold prediction ({unit})")
    axes.set_aspect("equal")
    text = (
        f"MAE {metrics['mae']:.3f} {unit}\nRMSE {metrics['rmse']:.3f}\n"
        f"R$^2$ {metrics['r2']:.3f}\nn = {metrics['n']}"
    )
    axes.text(0.04, 0.96, text, transform=axes.transAxes, va="top")
    axes.set_title(f"{target}: out-of-fold parity")
    save_figure(figure, path)


def learning_curves(
    histories: dict[int, pd.DataFrame],
    target: str,
    unit: str,
    path: str,
    kept: dict[int, tuple[int, float]] | None = None,
) -> None:
    """``learning_curves_figure``, written to ``path``."""
    save_figure(learning_curves_figure(histories, target, unit, kept), path)


def learning_curves_figure(histories, target: str, unit: str, kept=None):
    """MAE per epoch for every fold: training (solid), the inner early-stopping split
    (dashed) and the held-out fold (dotted), where the histories have them; ``kept``
    (fold: its model's epoch and held-out MAE) marks the models kept with a cross."""
    figure, axes = plt.subplots(figsize=(6.5, 4.2))
    curves = {
        "mae": ("-", "training molecules (solid)"),
        "val_mae": ("--", "early-stopping split (dashed)"),
        "held_out_mae": (":", "held-out fold (dotted)"),
    }
    colours = {}
    for fold, history in sorted(histories.items()):
        for column, (style, _) in curves.items():
            if column in history:
                label = None if fold in colours else f"fold {fold}"
                line = axes.plot(history["epoch"], history[column], linewidth=1,
                                 linestyle=style, color=colours.get(fold), label=label)  # fmt: skip
                colours[fold] = line[0].get_color()
    for fold, (epoch, mae) in sorted((kept or {}).items()):
        axes.plot([epoch], [mae], marker="x", markersize=7, linestyle="none",
                  color=colours.get(fold, "black"))  # fmt: skip
    axes.set_xlabel("epoch")
    axes.set_ylabel(f"MAE ({unit})")
    axes.set_yscale("log")
    shown = [name for column, (_, name) in curves.items()
             if any(column in history for history in histories.values())]  # fmt: skip
    shown += ["each fold's kept model on its held-out fold (x)"] if kept else []
    axes.set_title(textwrap.fill(f"{target}: MAE on the " + ", ".join(shown), 80), fontsize=9)
    axes.legend(fontsize=7, ncol=2)
    return figure
