from dataclasses import replace

import pandas as pd
import pytest

from redoxscreen.grid import Architecture, mae_table, parse_layers, read_grid, selection

from workflow_runner import REPO


def test_the_study_grid_has_25_architectures():
    grid = read_grid(str(REPO / "config" / "grid.tsv"))
    assert sorted(grid) == list(range(25))
    assert grid[2] == Architecture(2, 1, 1024, (1024, 512))  # the study's IE choice
    assert grid[24] == Architecture(24, 1, 1024, (512, 256))  # the study's EA choice
    assert grid[5] == Architecture(5, 2, 1024, (512, 256, 128))
    assert grid[23] == Architecture(23, 3, 2048, (1024, 256))
    assert {(a.radius, a.n_bits) for a in grid.values()} == {
        (r, b) for r in (1, 2, 3) for b in (1024, 2048)
    }


def test_the_fingerprint_grid_is_the_study_grid_once_per_count_kind():
    study = read_grid(str(REPO / "config" / "grid.tsv"))
    both = read_grid(str(REPO / "config" / "grid_fingerprints.tsv"))
    assert sorted(both) == list(range(50))
    for model, architecture in study.items():
        assert both[model] == replace(architecture, fingerprint="count")
        assert both[model + 25] == replace(architecture, model=model + 25, fingerprint="count_ap")


def test_parse_layers():
    assert parse_layers("1024-512-256") == (1024, 512, 256)
    with pytest.raises(ValueError, match="1024-512-256"):
        parse_layers("1024,512")


HEADER = "model\tradius\tn_bits\thidden_layers\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "0\t1\t1024\t512\n0\t2\t1024\t512\n", "line 3: model id 0 appears twice"),
        (HEADER + "\n0\t1\t1024\t512\t9\n", r"grid.tsv: extra_cells: line 3 has 5 cells"),
        ("", r"grid.tsv: the file is empty"),
        (
            "model,radius,n_bits,hidden_layers\n0,1,1024,512\n",
            r"header reads \['model,radius,n_bits,hidden_layers'\]",
        ),
    ],
)  # a row with an extra cell was read shifted (its first column as the index); commas by tabs
def test_a_bad_grid_file_is_refused_saying_why(tmp_path, text, message):
    path = tmp_path / "grid.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_grid(str(path))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("3\t1\t1024\t", "line 3: hidden layers must look like 1024-512-256, not ''"),
        ("3\t1\t1024", "line 3: hidden layers must look like 1024-512-256, not ''"),
        ("3\t1\t1020\t512", "line 3: n_bits must be a multiple of 8, not 1020"),
    ],
)
def test_a_bad_grid_cell_is_named_with_its_line(tmp_path, row, message):
    path = tmp_path / "grid.tsv"
    path.write_text(f"model\tradius\tn_bits\thidden_layers\n0\t1\t1024\t512\n{row}\n")
    with pytest.raises(ValueError, match=f"grid.tsv {message}"):
        read_grid(str(path))


def test_a_grid_row_may_name_its_fingerprint_kind(tmp_path):
    path = tmp_path / "grid.tsv"
    rows = ["model\tradius\tn_bits\thidden_layers\tfingerprint",
            "0\t1\t1024\t512\tcount_ap", "1\t1\t1024\t512\t", "2\t2\t1024\t512\tbit"]  # fmt: skip
    path.write_text("\n".join(rows) + "\n")
    grid = read_grid(str(path))
    assert [grid[model].fingerprint for model in (0, 1, 2)] == ["count_ap", None, "bit"]
    path.write_text("\n".join([*rows, "3\t1\t1024\t512\tcounts"]) + "\n")
    with pytest.raises(ValueError, match="line 5: fingerprint must be one of .* not 'counts'"):
        read_grid(str(path))


def fold_rows(model, maes, n_bits=1024, layers="512-256"):
    return [
        {"model": model, "fold": fold, "radius": 1, "n_bits": n_bits, "hidden_layers": layers,
         "fingerprint": "count", "val_mae": mae, "val_r2": 0.9, "epochs": 50, "train_seconds": 1.0}
        for fold, mae in enumerate(maes)
    ]  # fmt: skip


def test_selection_takes_the_lowest_mean_mae():
    metrics = pd.DataFrame(fold_rows(0, [0.30, 0.32]) + fold_rows(1, [0.20, 0.26]))
    table = mae_table(metrics)
    assert table["model"].tolist() == [1, 0]
    assert table.loc[0, "val_mae_mean"] == pytest.approx(0.23)
    assert selection(table, "IE")["model"] == 1


def test_ties_go_to_lower_sd_then_smaller_network():
    metrics = pd.DataFrame(
        fold_rows(0, [0.2, 0.4]) + fold_rows(1, [0.3, 0.3], n_bits=2048) + fold_rows(2, [0.3, 0.3])
    )
    assert mae_table(metrics)["model"].tolist() == [2, 1, 0]
