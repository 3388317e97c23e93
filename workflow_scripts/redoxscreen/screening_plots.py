"""Figures of the screening: where the predicted potentials fall against the windows, and how
like the training molecules a library's molecules are.

Drawn on matplotlib's Agg canvas directly (no pyplot, no global backend state) and written as
PNG atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from redoxscreen.plots import save_figure
from redoxscreen.screening import (
    Electrolyte,
    Role,
    check_kind,
    half_width_column,
    potential_column,
    upper_limit_v,
    values_of,
)

BAND_COLOURS = ["tab:green", "tab:purple", "tab:orange", "tab:cyan", "tab:olive"]
NOT_SEARCHED = (
    "no similarity (predict.similarity: false, or models without training_molecules.parquet)"
)


def potential_histogram(
    potentials: pd.DataFrame,
    electrolyte: Electrolyte,
    roles: Mapping[str, Role] | Iterable[Role],
    collector_max_v: float | None,
    kind: str,
    path: str | os.PathLike,
) -> None:
    """Histogram of one kind of predicted potential with the electrolyte window drawn on it.

    Marks the window edges, the collector cap (when it is below the oxidation limit), the
    typical margin (the median half-width of the interval) as shaded strips inside the edges,
    and the preference band of every role that works at this potential kind.
    """
    check_kind(kind)
    values = potentials[potential_column(kind)].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    margin_v = typical_margin_v(potentials, kind)
    figure = Figure(figsize=(7.5, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if values.size:
        axes.hist(values, bins=60, color="tab:blue", alpha=0.75, label="predicted molecules")
    else:
        axes.text(0.5, 0.5, "no predicted potentials", transform=axes.transAxes, ha="center")
    draw_window(axes, electrolyte, collector_max_v, margin_v)
    draw_role_bands(axes, [role for role in values_of(roles) if role.potential == kind])
    axes.set_xlabel(f"{kind} potential (V vs Li/Li$^+$)")
    axes.set_ylabel("molecules")
    axes.set_title(f"{kind} potentials in {electrolyte.name} (n = {values.size})")
    axes.legend(fontsize=7, loc="upper right")
    save_figure(figure, path)


def typical_margin_v(potentials: pd.DataFrame, kind: str) -> float:
    """The median interval half-width of a potential kind (0 when none is known)."""
    half_widths = potentials[half_width_column(kind)].to_numpy(dtype=float)
    half_widths = half_widths[np.isfinite(half_widths)]
    return float(np.median(half_widths)) if half_widths.size else 0.0


def draw_window(
    axes: Axes, electrolyte: Electrolyte, collector_max_v: float | None, margin_v: float
) -> None:
    lower = electrolyte.reduction_limit_v
    upper = upper_limit_v(electrolyte, collector_max_v)
    axes.axvline(lower, color="black", linewidth=1.2, label=f"reduction limit {lower:.2f} V")
    axes.axvline(
        electrolyte.oxidation_limit_v,
        color="black",
        linestyle="--" if upper < electrolyte.oxidation_limit_v else "-",
        linewidth=1.2,
        label=f"oxidation limit {electrolyte.oxidation_limit_v:.2f} V",
    )
    if upper < electrolyte.oxidation_limit_v:
        axes.axvline(upper, color="tab:red", linewidth=1.5, label=f"collector cap {upper:.2f} V")
    if margin_v > 0:
        axes.axvspan(lower, lower + margin_v, color="tab:red", alpha=0.15, zorder=0,
                     label=f"typical margin {margin_v:.2f} V")  # fmt: skip
        axes.axvspan(upper - margin_v, upper, color="tab:red", alpha=0.15, zorder=0)


def draw_role_bands(axes: Axes, roles: list[Role]) -> None:
    low_edge, high_edge = axes.get_xlim()
    for number, role in enumerate(roles):
        if role.band_min_v is None and role.band_max_v is None:
            continue
        start = role.band_min_v if role.band_min_v is not None else low_edge
        stop = role.band_max_v if role.band_max_v is not None else high_edge
        colour = BAND_COLOURS[number % len(BAND_COLOURS)]
        axes.axvspan(start, stop, color=colour, alpha=0.12, zorder=0, hatch="//",
                     label=f"{role.name} band {band_text(role)}")  # fmt: skip
    axes.set_xlim(low_edge, high_edge)


def band_text(role: Role) -> str:
    if role.band_min_v is not None and role.band_max_v is not None:
        return f"{role.band_min_v:.2f}-{role.band_max_v:.2f} V"
    if role.band_min_v is not None:
        return f">= {role.band_min_v:.2f} V"
    return f"<= {role.band_max_v:.2f} V"


def similarity_histogram(
    similarities: Mapping[str, np.ndarray], min_similarity: float | None, path: str | os.PathLike
) -> Figure:
    """Histogram, per target, of each library row's nearest training molecule's similarity
    (``<target>_similarity``; targets trained on the same molecules drawn once), on a log scale
    so that a few unfamiliar rows show beside many familiar ones, with
    ``screening.min_similarity`` drawn where it is set. Returns the figure."""
    figure = Figure(figsize=(7.5, 4.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    searched = 0
    for targets, values in alike_targets(similarities):
        finite = values[np.isfinite(values)]
        if finite.size:
            searched = max(searched, finite.size)
            axes.hist(finite, bins=np.linspace(0.0, 1.0, 51), histtype="step", linewidth=1.5,
                      label=f"{' and '.join(targets)} (median {np.median(finite):.2f})")  # fmt: skip
        elif values.size:  # rows without a similarity: named in the legend, not left out
            axes.plot([], [], " ", label=f"{' and '.join(targets)}: {NOT_SEARCHED}")
    rows = max((len(values) for values in similarities.values()), default=0)
    if searched:
        axes.set_yscale("log")
    else:
        note = NOT_SEARCHED if rows else "no library rows screened"
        axes.text(0.5, 0.5, note, transform=axes.transAxes, ha="center", fontsize=8)
    if min_similarity is not None:
        axes.axvline(min_similarity, color="tab:red", linewidth=1.5,
                     label=f"screening.min_similarity {min_similarity:g}")  # fmt: skip
    axes.set_xlim(0.0, 1.0)
    axes.set_xlabel("Tanimoto similarity (ECFP4) of the nearest training molecule")
    axes.set_ylabel("library rows")
    axes.set_title(f"How like the training molecules the library is (n = {searched})")
    if rows or min_similarity is not None:
        axes.legend(fontsize=7, loc="best")  # the peak may lie at either end
    save_figure(figure, path)
    return figure


def alike_targets(similarities: Mapping[str, np.ndarray]) -> list[tuple[list[str], np.ndarray]]:
    """The targets grouped by equal similarities (IE and EA trained on the same molecules)."""
    groups: list[tuple[list[str], np.ndarray]] = []
    for target, values in similarities.items():
        same = [names for names, known in groups if np.array_equal(known, values, equal_nan=True)]
        if same:
            same[0].append(target)
        else:
            groups.append(([target], values))
    return groups
