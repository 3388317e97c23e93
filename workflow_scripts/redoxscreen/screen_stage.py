"""The screening stage: predictions of a molecule set -> candidate tables, counts and figures.

The data set's own molecules are screened with their out-of-fold predictions, so no molecule
is judged by a model that trained on it; the 95 % half-width is the final models' global
interval (``screening.interval``: conformal or gaussian).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from redoxscreen.screening import (
    Role,
    candidate_counts,
    potentials_table,
    read_electrolytes,
    screen,
)
from redoxscreen.screening_plots import potential_histogram
from redoxscreen.tables import write_table

log = logging.getLogger(__name__)


def potential_targets(settings: Mapping, targets: Mapping, references: Mapping) -> dict:
    """Which target gives which potential, with its conversion, from the screening config."""
    chosen = {}
    for kind in ("oxidation", "reduction"):
        name = settings.get(f"{kind}_target")
        if name is None:
            continue
        if name not in targets:
            raise KeyError(
                f"screening.{kind}_target: {name!r} is not a target of the data set "
                f"(targets: {', '.join(targets)})"
            )
        chosen[kind] = {
            "target": name,
            "conversion": targets[name]["conversion"],
            "references": dict(references),
        }
    return chosen


def out_of_fold_predictions(
    molecules_path: str,
    oof_paths: Mapping[str, str],
    metric_paths: Mapping[str, str],
    interval: str,
) -> pd.DataFrame:
    """id, smiles and per target T: T_pred (out-of-fold) and T_half_width (global 95 %)."""
    table = pd.read_parquet(molecules_path, columns=["id", "smiles"])
    for target, path in oof_paths.items():
        oof = pd.read_parquet(path).set_index("id")["y_pred"]
        metrics = json.loads(Path(metric_paths[target]).read_text())
        table[f"{target}_pred"] = table["id"].map(oof)
        table[f"{target}_half_width"] = metrics["interval_95"][interval]["half_width"]
    return table


def figure_name(electrolyte: str, kind: str) -> str:
    return f"{kind}_{electrolyte}.png"


@dataclass(frozen=True)
class ScreeningPlan:
    """What to screen against: potentials per kind, electrolytes, roles and the collector cap."""

    targets: dict
    electrolytes: dict
    roles: list
    collector_max_v: float | None

    @classmethod
    def from_config(
        cls, settings: Mapping, targets: Mapping, references: Mapping, electrolytes_path: str
    ):
        available = read_electrolytes(electrolytes_path)
        unknown = [name for name in settings["electrolytes"] if name not in available]
        if unknown:
            raise KeyError(
                f"screening.electrolytes: {unknown} not in {electrolytes_path} "
                f"(known: {', '.join(available)})"
            )
        return cls(
            targets=potential_targets(settings, targets, references),
            electrolytes={name: available[name] for name in settings["electrolytes"]},
            roles=[Role.from_config(name, entry) for name, entry in settings["roles"].items()],
            collector_max_v=settings["collector_max_v"],
        )

    def screen(self, predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(potentials, screened rows) of a predictions table."""
        potentials = potentials_table(predictions, self.targets)
        return potentials, screen(potentials, self.electrolytes, self.roles, self.collector_max_v)

    def draw(self, potentials: pd.DataFrame, figure_paths: Sequence[str]) -> None:
        by_name = {Path(path).name: path for path in figure_paths}
        for name, electrolyte in self.electrolytes.items():
            for kind in self.targets:
                potential_histogram(
                    potentials, electrolyte, self.roles, self.collector_max_v, kind,
                    by_name[figure_name(name, kind)],
                )  # fmt: skip


def run_screening(
    predictions: pd.DataFrame,
    plan: ScreeningPlan,
    out: Mapping[str, str],
    figure_paths: Sequence[str],
) -> pd.DataFrame:
    """Screen, write candidates (Parquet + CSV), counts and one figure per (electrolyte, kind)."""
    potentials, screened = plan.screen(predictions)
    counts = candidate_counts(screened)
    write_table(screened, out["candidates"])
    write_table(screened, out["candidates_csv"])
    write_table(counts, out["counts"])
    plan.draw(potentials, figure_paths)
    log.info("candidates per electrolyte and role:\n%s", counts.to_string(index=False))
    return counts


def library_predictions(
    part: pd.DataFrame, targets: Sequence[str], half_widths: Mapping
) -> pd.DataFrame:
    """The screening input of one prediction part: ensemble means and global half-widths."""
    table = part[["id", "smiles"]].reset_index(drop=True)
    for target in targets:
        table[f"{target}_pred"] = part[f"{target}_pred"].to_numpy()
        table[f"{target}_half_width"] = half_widths[target]
    return table


def screen_library(
    part_paths: Sequence[str],
    plan: ScreeningPlan,
    half_widths: Mapping[str, float],
    out_dir: str,
    counts_path: str,
    rejected_path: str,
    figure_paths: Sequence[str],
) -> pd.DataFrame:
    """Screen a predicted library part by part; memory grows only with the potentials."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    targets = [spec["target"] for spec in plan.targets.values()]
    counts, potentials, rejected = [], [], []
    for number, path in enumerate(part_paths):
        part = pd.read_parquet(path)
        failed = part["error"] != ""
        rejected.append(part.loc[failed, ["line", "id", "input_smiles", "error"]])
        part_potentials, screened = plan.screen(
            library_predictions(part[~failed], targets, half_widths)
        )
        write_table(screened, out / f"part-{number:05d}.parquet")
        counts.append(candidate_counts(screened))
        potentials.append(part_potentials.drop(columns=["id", "smiles"]))
    total = (
        pd.concat(counts).groupby(["electrolyte", "role"], sort=False, as_index=False).sum()
        if counts
        else pd.DataFrame(columns=["electrolyte", "role", "n_screened", "n_candidates"])
    )
    write_table(total, counts_path)
    write_table(pd.concat(rejected, ignore_index=True), rejected_path)
    plan.draw(pd.concat(potentials, ignore_index=True), figure_paths)
    log.info("library candidates:\n%s", total.to_string(index=False))
    return total
