"""Checks on the configuration that a JSON schema cannot express, with errors naming the key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

MATERIALS_PROJECT = "materials_project"


class ConfigError(ValueError):
    """The configuration is inconsistent; the message names the key to fix."""


def selected_dataset(config: Mapping) -> dict:
    """The entry of ``datasets`` that ``dataset`` names."""
    name = config["dataset"]
    datasets = config["datasets"]
    if name not in datasets:
        known = ", ".join(sorted(datasets))
        raise ConfigError(f"dataset: {name!r} is not declared under datasets (declared: {known})")
    return datasets[name]


def check_config(
    config: Mapping, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` for settings that contradict each other or cannot be read."""
    if (
        config["screening"]["interval"] == "ensemble"
        and config["final"]["calibration_fraction"] == 0
    ):
        raise ConfigError(
            "screening.interval: 'ensemble' needs a calibration set to calibrate the ensemble "
            "spread; set final.calibration_fraction above 0 (e.g. 0.1) or use 'conformal'"
        )
    check_dataset(config, workdir, workflow_dir)
    check_screening_targets(config)


def check_dataset(
    config: Mapping, workdir: str | Path = ".", workflow_dir: str | Path | None = None
) -> None:
    """Raise ``ConfigError`` for a selected data set that cannot be read as declared."""
    name = config["dataset"]
    dataset = selected_dataset(config)
    for target, entry in dataset["targets"].items():
        low, high = entry.get("valid_range", (float("-inf"), float("inf")))
        if low >= high:
            raise ConfigError(
                f"datasets.{name}.targets.{target}.valid_range: min {low} is not below max {high}"
            )
    source = dataset["source"]
    if source == MATERIALS_PROJECT:
        if dataset.get("label_with_xtb"):
            raise ConfigError(
                f"datasets.{name}: label_with_xtb needs a SMILES file as source, "
                "not materials_project"
            )
        return
    places = [Path(workdir)] + ([Path(workflow_dir)] if workflow_dir else [])
    if not any((place / source).exists() for place in places):
        raise ConfigError(
            f"datasets.{name}.source: {source!r} does not exist (relative paths are read from "
            f"the working directory {Path(workdir).resolve()}, then the workflow's own "
            f"directory)"
        )


def check_screening_targets(config: Mapping) -> None:
    """Raise ``ConfigError`` when a screening target is not a target of the selected data set,
    or a role screens a potential that no target gives."""
    screening, name = config["screening"], config["dataset"]
    targets = list(selected_dataset(config)["targets"])
    for kind in ("oxidation", "reduction"):
        chosen = screening[f"{kind}_target"]
        if chosen is not None and chosen not in targets:
            raise ConfigError(
                f"screening.{kind}_target: {chosen!r} is not a target of data set {name!r} "
                f"(its targets: {', '.join(targets)}); name the one that gives the {kind} "
                f"potential, or null for none"
            )
    for role, entry in screening["roles"].items():
        kind = entry["potential"]
        if screening[f"{kind}_target"] is None:
            raise ConfigError(
                f"screening.roles.{role}.potential: {kind!r}, but screening.{kind}_target is "
                f"null; name a target of data set {name!r} there, or remove the role"
            )
