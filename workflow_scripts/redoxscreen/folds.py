"""Deterministic k-fold assignment: random, or by Bemis-Murcko scaffold.

In a scaffold split, all molecules that share a scaffold land in the same fold, so a model is
never validated on a scaffold it trained on.

The final stage can also hold out a calibration set (fold ``CALIBRATION_FOLD``): molecules that
no fold model trains on, so the ensemble of fold models meets them as it meets new molecules.
The grid's folds hold out the same set, so that no choice is made with its molecules.

A target's folds depend on its molecules (canonical SMILES and id), the seed and the split, not
on the order of the data set's rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

SPLITS = ("random", "scaffold")
CALIBRATION_FOLD = -1
MIN_CALIBRATION_MOLECULES = 20  # the least that calibrates the ensemble's 95 % interval

log = logging.getLogger(__name__)


def scaffold_of(smiles: str) -> str:
    """The Bemis-Murcko scaffold SMILES; acyclic molecules share the empty scaffold."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"cannot parse SMILES {smiles!r}")
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol)


def random_folds(n: int, k: int, seed: int) -> np.ndarray:
    """Balanced folds (sizes differ by at most one) in a seeded random order."""
    order = np.random.default_rng(seed).permutation(n)
    folds = np.empty(n, dtype=np.int64)
    folds[order] = np.arange(n) % k
    return folds


def scaffold_folds(smiles: Sequence[str], k: int, seed: int) -> np.ndarray:
    """Whole scaffold groups go to the currently smallest fold, largest groups first."""
    members = scaffold_groups(smiles)
    shuffled = np.random.default_rng(seed).permutation(len(members))
    ordered = sorted((members[i] for i in shuffled), key=len, reverse=True)
    folds = np.empty(len(smiles), dtype=np.int64)
    sizes = np.zeros(k, dtype=np.int64)
    for group in ordered:
        smallest = int(np.argmin(sizes))
        folds[group] = smallest
        sizes[smallest] += len(group)
    return folds


def assign_folds(smiles: Sequence[str], k: int, seed: int, split: str = "random") -> np.ndarray:
    """Fold numbers 0..k-1 for each molecule."""
    if k < 2:
        raise ValueError(f"k-fold cross-validation needs k >= 2, not {k}")
    if len(smiles) < k:
        raise ValueError(f"cannot split {len(smiles)} molecules into {k} folds")
    if split == "random":
        return random_folds(len(smiles), k, seed)
    if split == "scaffold":
        return scaffold_folds(smiles, k, seed)
    raise ValueError(f"split must be one of {SPLITS}, not {split!r}")


def scaffold_groups(smiles: Sequence[str]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for index, text in enumerate(smiles):
        groups.setdefault(scaffold_of(text), []).append(index)
    return list(groups.values())


def calibration_needed(target: str, screening: Mapping) -> bool:
    """Whether ``target`` needs a calibration set: screening judges it (it is a
    ``screening.<kind>_target``) with the per-molecule interval (``interval: ensemble``)."""
    screened = {screening.get(f"{kind}_target") for kind in ("oxidation", "reduction")}
    return screening["interval"] == "ensemble" and target in screened


class CalibrationSetTooSmall(ValueError):
    """``final.calibration_fraction`` holds out fewer than MIN_CALIBRATION_MOLECULES."""


def too_small_calibration_set(smiles: Sequence[str], n_held: int, seed: int, split: str) -> str:
    """What to do where ``final.calibration_fraction`` holds out too few molecules."""
    return calibration_advice(
        smiles,
        seed,
        split,
        problem=f"final.calibration_fraction holds out {n_held} of its {len(smiles)} labelled "
        f"molecules for calibration, and the ensemble's interval needs at least "
        f"{MIN_CALIBRATION_MOLECULES}",
        otherwise="set it to 0 (no calibration set; then screening.interval: conformal or "
        "gaussian)",
    )


def no_calibration_set(smiles: Sequence[str], fraction: float, seed: int, split: str) -> str:
    """What to do where ``final.calibration_fraction`` holds out no molecule of a target and
    the per-molecule interval (``screening.interval: ensemble``) needs a calibration set."""
    return calibration_advice(
        smiles,
        seed,
        split,
        problem=f"final.calibration_fraction {fraction:g} holds out none of its {len(smiles)} "
        f"labelled molecules, and screening.interval 'ensemble' needs a calibration set of at "
        f"least {MIN_CALIBRATION_MOLECULES}",
        otherwise="set screening.interval: conformal or gaussian",
    )


def calibration_advice(
    smiles: Sequence[str], seed: int, split: str, problem: str, otherwise: str
) -> str:
    """``problem``, then the least fraction that holds out enough molecules
    (``least_calibration_fraction``) where one does, or ``otherwise``."""
    least = least_calibration_fraction(smiles, seed, split)
    raise_it = f"raise final.calibration_fraction to {least}, or " if least else ""
    return f"{problem}: {raise_it}{otherwise}"


def least_calibration_fraction(smiles: Sequence[str], seed: int, split: str) -> float | None:
    """The least fraction, in hundredths below the schema's 0.5, whose hold-out (tried with
    ``calibration_mask``) holds MIN_CALIBRATION_MOLECULES or more; None where none does."""
    enough = (
        hundredths / 100
        for hundredths in range(1, 50)
        if calibration_mask(smiles, hundredths / 100, seed, split).sum()
        >= MIN_CALIBRATION_MOLECULES
    )
    return next(enough, None)


def calibration_mask(
    smiles: Sequence[str], fraction: float, seed: int, split: str = "random"
) -> np.ndarray:
    """A seeded hold-out of about ``fraction`` of the molecules (whole scaffolds if scaffold).

    Its seed is offset from the folds' seed so that the hold-out and the folds are independent.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"calibration fraction must be in [0, 1), not {fraction}")
    wanted = int(round(fraction * len(smiles)))
    rng = np.random.default_rng([seed, 1])
    if split == "scaffold":
        members = scaffold_groups(smiles)
        groups = [members[i] for i in rng.permutation(len(members))]
    else:
        groups = [[i] for i in rng.permutation(len(smiles))]
    held = np.zeros(len(smiles), dtype=bool)
    size = 0
    for group in groups:  # a group joins when it brings the size closer to the wanted one
        if abs(size + len(group) - wanted) < abs(size - wanted):
            held[group] = True
            size += len(group)
    return held


def folds_with_calibration(
    smiles: Sequence[str],
    k: int,
    seed: int,
    split: str,
    calibration_fraction: float,
    needs_calibration: bool = False,
) -> np.ndarray:
    """Folds 0..k-1, and CALIBRATION_FOLD for the molecules held out of every fold model.
    A share of the molecules that rounds to none leaves no calibration set (a warning), unless
    ``needs_calibration`` (the per-molecule interval is configured), which refuses it."""
    held = calibration_mask(smiles, calibration_fraction, seed, split)
    if 0 < held.sum() < MIN_CALIBRATION_MOLECULES:
        raise CalibrationSetTooSmall(
            too_small_calibration_set(smiles, int(held.sum()), seed, split)
        )
    if calibration_fraction > 0 and not held.any():
        if needs_calibration:
            raise CalibrationSetTooSmall(
                no_calibration_set(smiles, calibration_fraction, seed, split)
            )
        log.warning("final.calibration_fraction %g of %d labelled molecules holds out none: no "
                    "calibration set, and no per-molecule interval", calibration_fraction,
                    len(smiles))  # fmt: skip
    folds = np.full(len(smiles), CALIBRATION_FOLD, dtype=np.int64)
    rest = np.flatnonzero(~held)
    folds[rest] = assign_folds([smiles[i] for i in rest], k, seed, split)
    return folds


def write_target_folds(
    molecules_path: str,
    target: str,
    k: int,
    seed: int,
    split: str,
    out_path: str,
    calibration_fraction: float = 0.0,
    k_key: str = "k",
    needs_calibration: bool = False,
) -> None:
    """Folds over the molecules labelled for ``target``: columns id, fold, in the data set's
    order; the folds are made in the order of canonical SMILES (then id), so the same molecules
    get the same folds however the rows are sorted. ``k_key`` names the setting that gave ``k``
    in errors; ``needs_calibration`` as in ``folds_with_calibration``."""
    import pandas as pd

    from redoxscreen.tables import write_table

    molecules = pd.read_parquet(molecules_path)
    if target not in molecules:
        raise KeyError(f"target {target!r} is not a column of {molecules_path}")
    labelled = molecules[molecules[target].notna()].reset_index(drop=True)
    order = labelled.sort_values(["smiles", "id"], kind="stable").index.to_numpy()
    folds = np.empty(len(labelled), dtype=np.int64)
    try:
        folds[order] = folds_with_calibration(
            labelled["smiles"].to_numpy()[order].tolist(),
            k,
            seed,
            split,
            calibration_fraction,
            needs_calibration,
        )
    except CalibrationSetTooSmall as error:
        raise ValueError(f"{target}: {error}") from error
    except ValueError as error:
        raise ValueError(f"{k_key} = {k} for {target}: {error}") from error
    write_table(pd.DataFrame({"id": labelled["id"], "fold": folds}), out_path)
