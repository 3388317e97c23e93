"""Figures: matplotlib, written atomically as PNG."""

from __future__ import annotations

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
    """Mean held-out MAE for each (radius, bits) column and hidden-layer row; best boxed."""
    table = table.assign(
        features=lambda t: [f"r{r}\n{b}" for r, b in zip(t.radius, t.n_bits, strict=True)]
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
        axes.text(column, row, f"m{model}\n{value:.3f}", ha="center", va="center",
                  color="white", fontsize=8, fontweight=weight)  # fmt: skip
    figure.colorbar(image, ax=axes, label=f"mean held-out MAE ({unit})")
    axes.set_xlabel("fingerprint radius and bits")
    axes.set_ylabel("hidden layers")
    axes.set_title(f"{target}: model grid (best m{int(best.model)}, bold)")
    save_figure(figure, path)
