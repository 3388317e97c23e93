"""The screening stage: predictions of a molecule set -> candidate tables, counts and figures.

The data set's own molecules are screened with their honest predictions, so no molecule is
judged by a model that trained on it: out-of-fold predictions, and the ensemble's for the
calibration molecules. The half-width (``screening.interval``, at ``final.interval_level``) is
per molecule with ``ensemble`` (ensemble spread x calibrated scale) where an ensemble predicted
the molecule (the calibration set, libraries), and otherwise the global ``conformal`` (or
``gaussian``) one. A library's half-widths are computed here, from its predicted spreads and
the run's ``metrics.json``, so that another level screens again and predicts nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from redoxscreen.potentials import to_volts_vs_li
from redoxscreen.screening import (
    FAMILIAR,
    LIBRARY_ADDED_COLUMNS,
    LIBRARY_COUNT_COLUMNS,
    SCREEN_COLUMNS,
    Role,
    candidate_counts,
    check_candidates_can_pass,
    distinct_candidate_counts,
    ensemble_half_widths,
    potentials_table,
    read_electrolytes,
    recorded_intervals,
    screen,
    with_criteria,
    with_repeats_marked,
)
from redoxscreen.tables import (
    NEIGHBOUR_COLUMNS,
    carried_column_names,
    input_columns,
    part_path,
    part_paths,
    write_table,
)

log = logging.getLogger(__name__)


def screened_kinds(settings: Mapping) -> list[str]:
    """The potentials (``oxidation``, ``reduction``) whose target ``screening`` names."""
    return [
        kind for kind in ("oxidation", "reduction") if settings.get(f"{kind}_target") is not None
    ]


def screening_is_on(settings: Mapping) -> bool:
    """Whether a run screens: ``screening`` names a target for at least one potential (both
    null: the models are trained and evaluated, nothing is screened)."""
    return bool(screened_kinds(settings))


def potential_targets(settings: Mapping, targets: Mapping, references: Mapping) -> dict:
    """Which target gives which potential, with its conversion, from the screening config."""
    chosen = {}
    for kind in screened_kinds(settings):
        name = settings[f"{kind}_target"]
        if name not in targets:
            raise KeyError(
                f"screening.{kind}_target: {name!r} is not a target of the data set "
                f"(its targets: {', '.join(targets)}); name the one that gives the {kind} "
                "potential, or null for none"
            )
        chosen[kind] = {
            "target": name,
            "conversion": targets[name]["conversion"],
            "references": dict(references),
        }
    return chosen


PER_MOLECULE = "ensemble"


def global_half_width(metrics: Mapping, interval: str) -> float:
    """A global half-width from a target's metrics.json; the fold-model fallback for
    ``ensemble`` is ``conformal``."""
    method = "conformal" if interval == PER_MOLECULE else interval
    return float(recorded_intervals(metrics)[method]["half_width"])


def check_per_molecule_interval(metrics: Mapping, interval: str, target: str) -> None:
    """Refuse the per-molecule interval for final models trained without a calibration set
    (``final.calibration_fraction`` 0, or a share that held out none of the target's molecules
    under another ``screening.interval``)."""
    if interval == PER_MOLECULE and not recorded_intervals(metrics).get(PER_MOLECULE):
        raise ValueError(
            f"screening.interval is 'ensemble' but the {target} final models have no calibrated "
            "ensemble interval: final.calibration_fraction held out none of its molecules when "
            "they were trained; set screening.interval: conformal or gaussian, or raise "
            "final.calibration_fraction (which trains the models again)"
        )


def out_of_fold_predictions(
    molecules_path: str,
    oof_paths: Mapping[str, str],
    metric_paths: Mapping[str, str],
    interval: str,
) -> pd.DataFrame:
    """id, smiles and per target T: T_pred (honest), T_half_width, and what a reader
    checks a candidate against (``DATASET_COLUMNS``): T_label, the molecule's own label, and
    T_source, the prediction's source (``fold model``: out-of-fold; ``ensemble``: a calibration
    molecule, which no fold model trained on)."""
    table = pd.read_parquet(molecules_path, columns=["id", "smiles"])
    for target, path in oof_paths.items():
        oof = pd.read_parquet(path).set_index("id")
        metrics = json.loads(Path(metric_paths[target]).read_text())
        check_per_molecule_interval(metrics, interval, target)
        half_width = pd.Series(global_half_width(metrics, interval), index=oof.index)
        if interval == PER_MOLECULE:
            by_ensemble = oof["source"] == "ensemble"
            half_width[by_ensemble] = oof.loc[by_ensemble, "half_width"]
            log.info("%s: %d molecules with per-molecule intervals (ensemble), %d predicted by "
                     "one fold model with the global conformal +-%.3f", target, by_ensemble.sum(),
                     (~by_ensemble).sum(), global_half_width(metrics, interval))  # fmt: skip
        table[f"{target}_pred"] = table["id"].map(oof["y_pred"])
        table[f"{target}_half_width"] = table["id"].map(half_width)
        table[f"{target}_label"] = table["id"].map(oof["y_true"])
        table[f"{target}_source"] = table["id"].map(oof["source"])
    return table


DATASET_COLUMNS = ("label", "source")  # a data set molecule's, carried into its screened rows
DATASET_SUFFIXES = tuple(f"_{kind}" for kind in DATASET_COLUMNS)


def figure_name(electrolyte: str, kind: str) -> str:
    return f"{kind}_{electrolyte}.png"


@dataclass(frozen=True)
class ScreeningPlan:
    """What to screen against: potentials per kind, electrolytes, roles and the collector cap."""

    targets: dict
    electrolytes: dict
    roles: list
    collector_max_v: float | None
    # a library molecule passes only with a nearest training molecule this alike (None: any)
    min_similarity: float | None = None

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
        chosen = potential_targets(settings, targets, references)
        roles = [
            Role.from_config(name, entry)
            for name, entry in settings["roles"].items()
            if entry is not None  # removed by a layered config file
        ]
        if not roles:
            raise KeyError(
                "screening.roles: no role is left (every one is null or none is named), so no "
                "molecule would be screened; name at least one, e.g. "
                "cathode: {potential: reduction, band_min_v: 3.0, band_max_v: 3.29}"
            )
        for role in roles:
            if role.potential not in chosen:
                raise KeyError(
                    f"screening.roles.{role.name}.potential: {role.potential!r}, but "
                    f"screening.{role.potential}_target is null; name a target there, or "
                    f"remove the role (in a layered config file: {role.name}: null)"
                )
        electrolytes = {name: available[name] for name in settings["electrolytes"]}
        check_candidates_can_pass(electrolytes, roles, settings["collector_max_v"])
        return cls(
            targets=chosen,
            electrolytes=electrolytes,
            roles=roles,
            collector_max_v=settings["collector_max_v"],
            min_similarity=settings.get("min_similarity"),
        )

    def screen(self, predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(potentials, screened rows) of a predictions table."""
        potentials = potentials_table(predictions, self.targets)
        return potentials, screen(potentials, self.electrolytes, self.roles, self.collector_max_v)

    def labels_in_volts(self, screened: pd.DataFrame) -> np.ndarray:
        """Per screened row: the label of the target its potential reads (``<T>_label``), as
        a potential vs Li/Li+, as the predictions are converted."""
        volts = np.full(len(screened), np.nan)
        for kind, spec in self.targets.items():
            rows = (screened["potential"] == kind).to_numpy()
            labels = screened.loc[rows, f"{spec['target']}_label"]
            volts[rows] = to_volts_vs_li(labels, spec["conversion"], spec["references"])
        return volts

    def judge_similarity(self, screened: pd.DataFrame) -> pd.DataFrame:
        """Library rows screened (with each target's ``<T>_similarity``) given ``familiar``:
        the molecule's nearest training molecule, for the target of the row's potential, is at
        least ``min_similarity`` alike (every row without a threshold). A row that is not
        familiar does not pass. Raises where a similarity is missing (not searched)."""
        familiar = np.ones(len(screened), dtype=bool)
        if self.min_similarity is not None:
            for kind, spec in self.targets.items():
                rows = (screened["potential"] == kind).to_numpy()
                familiar[rows] = self.alike_enough(screened.loc[rows], spec["target"], kind)
        judged = screened.assign(passes=screened["passes"].to_numpy() & familiar)
        judged.insert(judged.columns.get_loc("passes"), FAMILIAR, familiar)
        return judged

    def alike_enough(self, rows: pd.DataFrame, target: str, kind: str) -> np.ndarray:
        """Per row: its ``<target>_similarity`` is at least ``min_similarity``."""
        column = f"{target}_similarity"
        similarity = rows[column].to_numpy(dtype=float)
        if np.isnan(similarity).any():
            raise ValueError(
                f"screening.min_similarity is {self.min_similarity}, but "
                f"{int(np.isnan(similarity).sum())} {kind} rows have no {column} (predicted "
                "with predict.similarity: false, or by models without "
                "training_molecules.parquet); predict the library with the search, or set "
                "screening.min_similarity: null"
            )
        return similarity >= self.min_similarity

    def draw_similarity(self, similarities: Mapping[str, np.ndarray], path: str) -> None:
        from redoxscreen.screening_plots import similarity_histogram

        similarity_histogram(similarities, self.min_similarity, path)

    def with_criteria(self, counts: pd.DataFrame) -> pd.DataFrame:
        """Candidate counts with the window and band that their rows were judged by."""
        return with_criteria(counts, self.electrolytes, self.roles, self.collector_max_v)

    def draw(self, potentials: pd.DataFrame, figure_paths: Sequence[str]) -> None:
        # matplotlib only here: Snakemake builds a plan (ScreeningPlan.from_config) at start-up
        from redoxscreen.screening_plots import potential_histogram

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
    """Screen; write every screened row (``screened``, Parquet), the rows that pass
    (``candidates``, CSV), counts and one figure per (electrolyte, kind). The rows keep the
    predictions' ``<T>_label`` and ``<T>_source`` columns where they have them, and the label
    of the row's potential in volts (``label_v_li``)."""
    potentials, screened = plan.screen(predictions)
    carried = [name for name in predictions.columns if name.endswith(DATASET_SUFFIXES)]
    screened = with_input_columns(screened, predictions[["id", *carried]])
    if carried:
        screened["label_v_li"] = plan.labels_in_volts(screened)
    counts = plan.with_criteria(candidate_counts(screened))
    write_table(screened, out["screened"])
    write_table(screened[screened["passes"]], out["candidates"])
    write_table(counts, out["counts"])
    plan.draw(potentials, figure_paths)
    log.info("candidates per electrolyte and role:\n%s", counts.to_string(index=False))
    return counts


def library_half_widths(metric_paths: Mapping[str, str], interval: str) -> dict:
    """Per target: a global half-width, or with PER_MOLECULE the calibrated ensemble interval
    (``scale``, ``spread_floor``) that turns each molecule's spread into its half-width."""
    widths = {}
    for target, path in metric_paths.items():
        metrics = json.loads(Path(path).read_text())
        check_per_molecule_interval(metrics, interval, target)
        widths[target] = (
            recorded_intervals(metrics)[PER_MOLECULE]
            if interval == PER_MOLECULE
            else global_half_width(metrics, interval)
        )
    return widths


def with_input_columns(screened: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """Screened rows with their molecule's other library columns (``inputs``: ``id`` first,
    one row per molecule), prefixed ``input_`` where the screen has the name. The screen
    holds one block per electrolyte and role, each in the molecules' order: checked by id."""
    blocks = len(screened) // len(inputs) if len(inputs) else 0
    rows = np.tile(np.arange(len(inputs)), blocks)
    if (
        len(rows) != len(screened)
        or (screened["id"].to_numpy() != inputs["id"].to_numpy()[rows]).any()
    ):
        raise ValueError("screened rows are not in the molecules' order: cannot add their columns")
    carried = inputs.iloc[rows, 1:].reset_index(drop=True)
    taken = [*screened.columns, *LIBRARY_ADDED_COLUMNS]
    carried.columns = carried_column_names(list(carried.columns), taken)
    return pd.concat([screened.reset_index(drop=True), carried], axis=1)


def library_parts(parts_dir: str) -> list[str]:
    """The ``part-<N>.parquet`` files of a predicted library, refused where there are none."""
    paths = part_paths(parts_dir)
    if not paths:
        raise ValueError(
            f"{parts_dir} holds no prediction part (part-<N>.parquet): "
            "delete the folder and predict the library again"
        )
    return [str(path) for path in paths]


def check_prediction_part(part: pd.DataFrame, path: str, needed: Sequence[str]) -> None:
    """A part predicted by an earlier redoxscreen lacks columns that screening reads."""
    missing = [column for column in needed if column not in part.columns]
    if missing:
        raise ValueError(
            f"{path} has no column {', '.join(missing)}: it was predicted by an earlier "
            "redoxscreen or for other targets; delete its folder and predict the library again"
        )


def library_predictions(
    part: pd.DataFrame, targets: Sequence[str], half_widths: Mapping[str, float | Mapping]
) -> pd.DataFrame:
    """The screening input of one prediction part: ensemble means and half-widths (global, or
    each molecule's from its spread: see ``library_half_widths``)."""
    table = part[["id", "smiles"]].reset_index(drop=True)
    for target in targets:
        table[f"{target}_pred"] = part[f"{target}_pred"].to_numpy()
        width = half_widths[target]
        table[f"{target}_half_width"] = (
            ensemble_half_widths(
                part[f"{target}_spread"].to_numpy(), width["scale"], width["spread_floor"]
            )
            if isinstance(width, Mapping)
            else width
        )
    return table


def screen_library(
    parts: Sequence[str],
    plan: ScreeningPlan,
    half_widths: Mapping[str, float | Mapping],
    out_dir: str,
    candidates_path: str,
    counts_path: str,
    rejected_path: str,
    figure_paths: Sequence[str],
    similarity_figure: str,
) -> pd.DataFrame:
    """Screen a predicted library part by part: every screened row in ``out_dir``'s parts, the
    rows that pass in ``candidates_path`` (CSV, with ``duplicate_of`` naming the first row of a
    molecule the library lists again); memory grows with the potentials, the passing rows and
    the similarities (drawn in ``similarity_figure``).
    Screened rows keep their molecule's ``line`` in the library and each target's nearest
    training molecule (``<target>_similarity``, ``<target>_nearest``); they and rejected lines
    keep the library table's other columns (see ``with_input_columns``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    targets = [spec["target"] for spec in plan.targets.values()]
    neighbours = [f"{target}_{kind}" for target in targets for kind in NEIGHBOUR_COLUMNS]
    predicted = [f"{target}_{kind}" for target in targets for kind in ("pred", "spread")]
    counts, potentials, rejected, passing = [], [], [], []
    similarities: dict[str, list[np.ndarray]] = {target: [] for target in targets}
    for number, path in enumerate(parts):
        part = pd.read_parquet(path)
        check_prediction_part(part, path, [*predicted, *neighbours])
        carried = input_columns(part)
        failed = part["error"] != ""
        rejected.append(part.loc[failed, ["line", "id", "input_smiles", "error", *carried]])
        kept = part[~failed]
        part_potentials, screened = plan.screen(library_predictions(kept, targets, half_widths))
        screened = with_input_columns(screened, kept[["id", "line", *neighbours, *carried]])
        screened = plan.judge_similarity(screened)
        write_table(screened, part_path(out, number))
        passing.append(screened[screened["passes"]])
        counts.append(candidate_counts(screened))
        potentials.append(part_potentials.drop(columns=["id", "smiles"]))
        for target, values in similarities.items():
            values.append(kept[f"{target}_similarity"].to_numpy(dtype=float, copy=True))
    candidates = with_repeats_marked(
        pd.concat(passing, ignore_index=True) if passing else pd.DataFrame(columns=SCREEN_COLUMNS)
    )
    total = plan.with_criteria(
        distinct_candidate_counts(
            pd.concat(counts).groupby(["electrolyte", "role"], sort=False, as_index=False).sum()
            if counts
            else pd.DataFrame(columns=LIBRARY_COUNT_COLUMNS),
            candidates,
        )
    )
    write_table(total, counts_path)
    write_table(candidates, candidates_path)
    write_table(pd.concat(rejected, ignore_index=True), rejected_path)
    plan.draw(pd.concat(potentials, ignore_index=True), figure_paths)
    plan.draw_similarity(
        {
            target: np.concatenate(values or [np.zeros(0)])
            for target, values in similarities.items()
        },
        similarity_figure,
    )
    log.info("library candidates:\n%s", total.to_string(index=False))
    return total
