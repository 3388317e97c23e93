"""Figures drawn from a run's tables."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from redoxscreen.plots import learning_curves, learning_curves_figure


def test_learning_curves_draw_each_curve_and_mark_the_kept_models(tmp_path):
    epochs = np.arange(1, 6)
    histories = {
        0: pd.DataFrame({"epoch": epochs, "mae": 0.3 / epochs, "held_out_mae": 0.1 + 0.2 / epochs}),
        1: pd.DataFrame({"epoch": epochs, "mae": 0.2 / epochs, "held_out_mae": 0.1 + 0.3 / epochs}),
    }
    kept = {0: (5, 0.12), 1: (5, 0.11)}  # an averaged model can beat every epoch's weights
    figure = learning_curves_figure(histories, "IE", "eV", kept)
    lines = figure.axes[0].get_lines()
    styles = [line.get_linestyle() for line in lines if line.get_marker() in ("None", "")]
    assert styles == ["-", ":", "-", ":"]
    crosses = [line for line in lines if line.get_marker() == "x"]
    marked = [(line.get_xdata()[0], line.get_ydata()[0]) for line in crosses]
    assert marked == [(5, 0.12), (5, 0.11)]
    assert [line.get_color() for line in crosses] == [lines[0].get_color(), lines[2].get_color()]
    title = figure.axes[0].get_title().replace("\n", " ")  # wrapped to the figure's width
    assert title == (
        "IE: MAE on the training molecules (solid), held-out fold (dotted), each fold's kept "
        "model on its held-out fold (x)"
    )
    plt.close(figure)
    learning_curves(histories, "IE", "eV", str(tmp_path / "curves.png"))  # without kept models
    assert (tmp_path / "curves.png").stat().st_size > 10_000
