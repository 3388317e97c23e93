"""Screening predicted redox potentials against electrolyte windows and role criteria.

A molecule has an oxidation potential (from its ionization energy) and a reduction potential
(from its electron affinity), both in V vs Li/Li+ with the half-width of an interval that
holds ``final.interval_level`` (95 %) of new molecules. A *role* (a cathode
material, an anode material, a redox shuttle...) operates at one of the two potentials and may
prefer a band of it. An *electrolyte* is stable between a reduction and an oxidation limit, and
the positive current collector caps the upper limit further.

A molecule passes for (electrolyte, role) when its whole interval lies inside the window
and its potential lies in the role's band (the point estimate, or the whole interval when the
role asks for the margin on the band too). A library molecule must also be ``familiar`` where
``screening.min_similarity`` is set: its nearest training molecule at least that alike.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from redoxscreen.potentials import to_volts_vs_li, volts_per_unit

POTENTIAL_KINDS = ("oxidation", "reduction")
COLUMN_PREFIX = {"oxidation": "e_ox", "reduction": "e_red"}

# Potentials computed by float subtraction (1.84 eV - 1.40) land a few 1e-16 V off a limit
# written in a table (0.44 V); within this tolerance a value counts as on the edge, i.e. inside.
EDGE_TOLERANCE_V = 1e-9

ELECTROLYTE_COLUMNS = ("electrolyte", "reduction_limit_v_li", "oxidation_limit_v_li")
ROLE_KEYS = ("potential", "band_min_v", "band_max_v", "margin_on_band")

# Of a library's candidates: the id of the first passing row of the same molecule, or "".
DUPLICATE_OF = "duplicate_of"
FAMILIAR = "familiar"  # a library row judged by screening.min_similarity
# the columns a library's screening adds to SCREEN_COLUMNS: no carried column takes their names
LIBRARY_ADDED_COLUMNS = (FAMILIAR, DUPLICATE_OF)
SCREEN_COLUMNS = [
    "id",
    "smiles",
    "electrolyte",
    "role",
    "potential",
    "potential_v_li",
    "half_width_v",
    "low_v",
    "high_v",
    "reduction_limit_v",
    "upper_limit_v",
    "in_window",
    "in_band",
    "passes",
    "note",
]


class ScreeningConfigError(ValueError):
    """An electrolyte table or a role definition that cannot be used."""


def potential_column(kind: str) -> str:
    """Column holding a potential kind in V vs Li/Li+: ``e_ox_v_li`` or ``e_red_v_li``."""
    return f"{COLUMN_PREFIX[check_kind(kind)]}_v_li"


def half_width_column(kind: str) -> str:
    """Column holding the interval's half-width of a potential kind in V."""
    return f"{COLUMN_PREFIX[check_kind(kind)]}_half_width_v"


def ensemble_half_widths(spread: np.ndarray, scale: float, spread_floor: float) -> np.ndarray:
    """Per-molecule half-widths: ``scale x max(spread, spread_floor)`` (``uncertainty``
    calibrates the scale and floor; a library is screened with them)."""
    return scale * np.maximum(np.asarray(spread, dtype=float), spread_floor)


def recorded_intervals(metrics: Mapping) -> dict:
    """The intervals a target's metrics.json records (``gaussian``, ``conformal``, ``ensemble``
    and their ``level``); runs from before ``final.interval_level`` recorded them as
    ``interval_95``, at 95 %. Empty where it records none."""
    if "interval" in metrics:
        return metrics["interval"]
    if "interval_95" in metrics:
        return {"level": 0.95} | metrics["interval_95"]
    return {}


def level_text(level: float) -> str:
    """An interval's level as people write it: 0.95 -> '95 %'."""
    return f"{100 * level:g} %"


def check_kind(kind: str, where: str = "potential kind") -> str:
    if kind not in POTENTIAL_KINDS:
        raise ScreeningConfigError(
            f"{where}: {kind!r} is not a potential kind; use one of {', '.join(POTENTIAL_KINDS)}"
        )
    return kind


# --- electrolytes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Electrolyte:
    """An electrolyte's electrochemical stability window in V vs Li/Li+."""

    name: str
    reduction_limit_v: float
    oxidation_limit_v: float


def read_electrolytes(path: str | os.PathLike) -> dict[str, Electrolyte]:
    """Read a TSV of electrolyte windows (``config/electrolytes.tsv``), keyed by name.

    Columns: ``electrolyte``, ``reduction_limit_v_li``, ``oxidation_limit_v_li`` (others, such
    as ``source``, are kept out of the result). Errors name the file, the line and the column.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"electrolyte table not found: {path}")
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        check_electrolyte_header(path, reader.fieldnames)
        electrolytes: dict[str, Electrolyte] = {}
        for row in reader:
            electrolyte = electrolyte_from_row(path, reader.line_num, row)
            if electrolyte.name in electrolytes:
                raise ScreeningConfigError(
                    f"{path}, line {reader.line_num}, column electrolyte: "
                    f"{electrolyte.name!r} is listed twice"
                )
            electrolytes[electrolyte.name] = electrolyte
    if not electrolytes:
        raise ScreeningConfigError(f"{path}: no electrolytes listed")
    return electrolytes


def check_electrolyte_header(path: Path, header: list[str] | None) -> None:
    missing = [column for column in ELECTROLYTE_COLUMNS if column not in (header or [])]
    if missing:
        raise ScreeningConfigError(
            f"{path}: missing column(s) {', '.join(missing)}; "
            f"expected a tab-separated header with {', '.join(ELECTROLYTE_COLUMNS)}"
        )


def electrolyte_from_row(path: Path, line: int, row: Mapping[str, str | None]) -> Electrolyte:
    name = (row.get("electrolyte") or "").strip()
    if not name:
        raise ScreeningConfigError(f"{path}, line {line}, column electrolyte: empty name")
    reduction = parse_volts(path, line, "reduction_limit_v_li", row)
    oxidation = parse_volts(path, line, "oxidation_limit_v_li", row)
    if reduction >= oxidation:
        raise ScreeningConfigError(
            f"{path}, line {line} ({name}), column oxidation_limit_v_li: {oxidation} V is not "
            f"above the reduction limit {reduction} V"
        )
    return Electrolyte(name=name, reduction_limit_v=reduction, oxidation_limit_v=oxidation)


def parse_volts(path: Path, line: int, column: str, row: Mapping[str, str | None]) -> float:
    text = (row.get(column) or "").strip()
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ScreeningConfigError(
            f"{path}, line {line}, column {column}: {text!r} is not a number of volts"
        )
    return value


# --- roles -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    """What a molecule is screened for, at which of its potentials, with an optional band.

    ``potential``: "oxidation" (IE − offset) or "reduction" (EA − offset): the one the role is
    judged at; the study judged both its cathode and its anode at the reduction potential
    (config/config.yaml). ``band_min_v`` / ``band_max_v``: the preferred potentials in V vs Li/Li+ (either may be open). With
    ``margin_on_band`` the whole interval must lie in the band, not only the estimate.
    """

    name: str
    potential: str
    band_min_v: float | None = None
    band_max_v: float | None = None
    margin_on_band: bool = False

    def __post_init__(self) -> None:
        where = f"screening.roles.{self.name}"
        check_kind(self.potential, f"{where}.potential")
        if (
            self.band_min_v is not None
            and self.band_max_v is not None
            and self.band_min_v > self.band_max_v
        ):
            raise ScreeningConfigError(
                f"{where}.band_min_v: {self.band_min_v} V is above band_max_v {self.band_max_v} V"
            )

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, object]) -> Role:
        """Build a role from its config entry ``screening.roles.<name>``, checking every key."""
        where = f"screening.roles.{name}"
        if not isinstance(settings, Mapping):
            raise ScreeningConfigError(f"{where}: expected a mapping of {', '.join(ROLE_KEYS)}")
        unknown = sorted(str(key) for key in settings if key not in ROLE_KEYS)
        if unknown:
            raise ScreeningConfigError(
                f"{where}.{unknown[0]}: unknown key; use {', '.join(ROLE_KEYS)}"
            )
        if "potential" not in settings:
            raise ScreeningConfigError(
                f"{where}.potential: missing; say 'oxidation' or 'reduction'"
            )
        return cls(
            name=name,
            potential=str(settings["potential"]),
            band_min_v=optional_volts(settings.get("band_min_v"), f"{where}.band_min_v"),
            band_max_v=optional_volts(settings.get("band_max_v"), f"{where}.band_max_v"),
            margin_on_band=flag(settings.get("margin_on_band", False), f"{where}.margin_on_band"),
        )


def optional_volts(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ScreeningConfigError(f"{where}: {value!r} is not a finite number of volts")
    return float(value)


def flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScreeningConfigError(f"{where}: {value!r} is not true or false")
    return value


# --- potentials --------------------------------------------------------------------------


def potentials_table(
    predictions: pd.DataFrame, targets: Mapping[str, Mapping[str, object]]
) -> pd.DataFrame:
    """Turn per-target predictions into potentials vs Li/Li+ with half-widths in volts.

    ``predictions``: ``id``, ``smiles`` and, per target T, ``T_pred`` and ``T_half_width`` (the
    interval's half-width in T's unit, one value or one per molecule). ``targets`` maps a potential
    kind ("oxidation", "reduction") to ``{"target": T, "conversion": ..., "references": {...}}``.
    Returns ``id``, ``smiles``, ``e_ox_v_li``, ``e_ox_half_width_v``, ``e_red_v_li``,
    ``e_red_half_width_v``, for the kinds present.
    """
    for kind in targets:
        check_kind(kind, "targets")
    table = predictions[["id", "smiles"]].reset_index(drop=True)
    for kind in POTENTIAL_KINDS:
        if kind in targets:
            volts, half_width = kind_in_volts(predictions, kind, targets[kind])
            table[potential_column(kind)] = volts
            table[half_width_column(kind)] = half_width
    return table


def kind_in_volts(
    predictions: pd.DataFrame, kind: str, spec: Mapping[str, object]
) -> tuple[np.ndarray, np.ndarray]:
    missing_keys = [key for key in ("target", "conversion") if key not in spec]
    if missing_keys:
        raise ScreeningConfigError(f"targets.{kind}: missing {', '.join(missing_keys)}")
    target, conversion = str(spec["target"]), str(spec["conversion"])
    columns = [f"{target}_pred", f"{target}_half_width"]
    missing = [column for column in columns if column not in predictions]
    if missing:
        raise KeyError(
            f"{kind} potential from target {target}: predictions lack {', '.join(missing)}"
        )
    half_width = predictions[columns[1]].to_numpy(dtype=float)
    if np.any(half_width < 0):
        raise ValueError(f"{columns[1]}: a half-width is negative")
    references = spec.get("references")
    volts = to_volts_vs_li(predictions[columns[0]].to_numpy(dtype=float), conversion, references)
    return volts, half_width * volts_per_unit(conversion)


# --- screening ---------------------------------------------------------------------------


def screen(
    potentials: pd.DataFrame,
    electrolytes: Mapping[str, Electrolyte] | Iterable[Electrolyte],
    roles: Mapping[str, Role] | Iterable[Role],
    collector_max_v: float | None,
) -> pd.DataFrame:
    """One row per (molecule, electrolyte, role): is the molecule a candidate there?

    ``in_window``: the interval [low_v, high_v] lies between the electrolyte's reduction
    limit and ``upper_limit_v`` = min(oxidation limit, collector cap). ``in_band``: the role's
    band holds the estimate (or the whole interval with ``margin_on_band``). ``passes``: both.
    A molecule without a potential or half-width fails everything and says why in ``note``.
    """
    blocks = [
        screen_one(potentials, electrolyte, role, collector_max_v)
        for electrolyte in values_of(electrolytes)
        for role in values_of(roles)
    ]
    if not blocks:
        return pd.DataFrame(columns=SCREEN_COLUMNS)
    return pd.concat(blocks, ignore_index=True)


def values_of(items: Mapping | Iterable) -> list:
    return list(items.values()) if isinstance(items, Mapping) else list(items)


def screen_one(
    potentials: pd.DataFrame, electrolyte: Electrolyte, role: Role, collector_max_v: float | None
) -> pd.DataFrame:
    columns = [potential_column(role.potential), half_width_column(role.potential)]
    missing = [column for column in columns if column not in potentials]
    if missing:
        raise KeyError(
            f"role {role.name!r} works at the {role.potential} potential, "
            f"but the potentials table has no {', '.join(missing)}"
        )
    potential = potentials[columns[0]].to_numpy(dtype=float)
    half_width = potentials[columns[1]].to_numpy(dtype=float)
    low, high = potential - half_width, potential + half_width
    upper = upper_limit_v(electrolyte, collector_max_v)
    in_window = (low >= electrolyte.reduction_limit_v - EDGE_TOLERANCE_V) & (
        high <= upper + EDGE_TOLERANCE_V
    )
    in_band = band_holds(role, potential, low, high) & np.isfinite(low)
    return pd.DataFrame(
        {
            "id": potentials["id"].to_numpy(),
            "smiles": potentials["smiles"].to_numpy(),
            "electrolyte": electrolyte.name,
            "role": role.name,
            "potential": role.potential,
            "potential_v_li": potential,
            "half_width_v": half_width,
            "low_v": low,
            "high_v": high,
            "reduction_limit_v": electrolyte.reduction_limit_v,
            "upper_limit_v": upper,
            "in_window": in_window,
            "in_band": in_band,
            "passes": in_window & in_band,
            "note": missing_value_notes(role.potential, potential, half_width),
        }
    )


def upper_limit_v(electrolyte: Electrolyte, collector_max_v: float | None) -> float:
    """The highest usable potential: the electrolyte's oxidation limit or the collector cap."""
    if collector_max_v is None:
        return electrolyte.oxidation_limit_v
    return min(electrolyte.oxidation_limit_v, collector_max_v)


def check_candidates_can_pass(
    electrolytes: Mapping[str, Electrolyte], roles: list[Role], collector_max_v: float | None
) -> None:
    """Refuse a window that holds no potential (a collector cap at or below an electrolyte's
    reduction limit), then a role whose band lies outside every window: no molecule could pass,
    and the counts would only say 0."""
    for electrolyte in electrolytes.values():
        if upper_limit_v(electrolyte, collector_max_v) <= electrolyte.reduction_limit_v:
            raise ScreeningConfigError(
                f"screening.collector_max_v: {collector_max_v} V caps {electrolyte.name}'s "
                f"window at or below its reduction limit, {electrolyte.reduction_limit_v} V: no "
                f"molecule can pass there; raise collector_max_v, or leave {electrolyte.name} "
                "out of screening.electrolytes"
            )
    for role in roles:
        if not any(band_meets_window(role, electrolyte, collector_max_v)
                   for electrolyte in electrolytes.values()):  # fmt: skip
            windows = "; ".join(
                f"{electrolyte.name} {electrolyte.reduction_limit_v:g}–"
                f"{upper_limit_v(electrolyte, collector_max_v):g} V"
                for electrolyte in electrolytes.values()
            )
            band = band_text(role.band_min_v, role.band_max_v)
            raise ScreeningConfigError(
                f"screening.roles.{role.name}: its band ({band}) lies outside every "
                f"electrolyte's window ({windows}; up to "
                "the lower of the oxidation limit and collector_max_v): no molecule can pass; "
                "change the band or the electrolytes, or remove the role (in a layered config "
                f"file: {role.name}: null)"
            )


def band_meets_window(role: Role, electrolyte: Electrolyte, collector_max_v: float | None) -> bool:
    """Whether the role's band and the electrolyte's window share a potential (where a pair
    shares none, its counts show 0 beside the window and band that explain them)."""
    above = role.band_min_v is not None and role.band_min_v > upper_limit_v(
        electrolyte, collector_max_v
    )
    below = role.band_max_v is not None and role.band_max_v < electrolyte.reduction_limit_v
    return not (above or below)


def band_text(band_min_v: float | None, band_max_v: float | None) -> str:
    """A role's band in words: '3–3.29 V', '≥ 1.8 V', '≤ 4 V' or 'anywhere in the window'
    (a bound that is None or NaN is open)."""
    low = None if band_min_v is None or math.isnan(band_min_v) else f"{band_min_v:g}"
    high = None if band_max_v is None or math.isnan(band_max_v) else f"{band_max_v:g}"
    if low and high:
        return f"{low}–{high} V"
    if low or high:
        return f"≥ {low} V" if low else f"≤ {high} V"
    return "anywhere in the window"


def band_holds(role: Role, potential: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    bottom, top = (low, high) if role.margin_on_band else (potential, potential)
    holds = np.ones(potential.shape, dtype=bool)
    if role.band_min_v is not None:
        holds &= bottom >= role.band_min_v - EDGE_TOLERANCE_V
    if role.band_max_v is not None:
        holds &= top <= role.band_max_v + EDGE_TOLERANCE_V
    return holds


def missing_value_notes(kind: str, potential: np.ndarray, half_width: np.ndarray) -> np.ndarray:
    """Why a row without a usable potential or half-width fails: NaN (none) or infinite (a
    model that diverged)."""
    notes = np.full(potential.shape, "", dtype=object)
    notes[np.isinf(half_width)] = f"an infinite half-width for the {kind} potential"
    notes[np.isnan(half_width)] = f"no half-width for the {kind} potential"
    notes[np.isinf(potential)] = f"an infinite predicted {kind} potential"
    notes[np.isnan(potential)] = f"no predicted {kind} potential"
    return notes


COUNT_COLUMNS = ["electrolyte", "role", "n_screened", "n_candidates"]
LIBRARY_COUNT_COLUMNS = [*COUNT_COLUMNS, "n_unfamiliar"]  # rows judged by similarity


def candidate_counts(screened: pd.DataFrame) -> pd.DataFrame:
    """Passing molecules per (electrolyte, role), zero counts included.

    Columns: ``electrolyte``, ``role``, ``n_screened`` (rows: a library listing a molecule
    twice screens it twice, whatever its chunks), ``n_candidates`` (rows that pass), and where
    rows were judged by similarity (``familiar``), ``n_unfamiliar``: rows inside the window and
    band that did not pass for their nearest training molecule's similarity; in the order the
    pairs appear in ``screened``.
    """
    judged = FAMILIAR in screened
    columns = LIBRARY_COUNT_COLUMNS if judged else COUNT_COLUMNS
    if screened.empty:
        return pd.DataFrame(columns=columns)
    in_window_and_band = screened["in_window"].astype(bool) & screened["in_band"].astype(bool)
    counted = screened.assign(
        passing=screened["passes"].astype(bool),
        unfamiliar=in_window_and_band & ~screened[FAMILIAR].astype(bool) if judged else False,
    )
    counts = (
        counted.groupby(["electrolyte", "role"], sort=False)
        .agg(
            n_screened=("passing", "size"),
            n_candidates=("passing", "sum"),
            n_unfamiliar=("unfamiliar", "sum"),
        )
        .reset_index()
    )
    return counts[columns]


# what each count's rows were judged by, after its electrolyte and role
CRITERIA_COLUMNS = [
    "potential",
    "reduction_limit_v",
    "upper_limit_v",
    "band_min_v",
    "band_max_v",
    "margin_on_band",
]


def with_criteria(
    counts: pd.DataFrame,
    electrolytes: Mapping[str, Electrolyte],
    roles: Iterable[Role],
    collector_max_v: float | None,
) -> pd.DataFrame:
    """``counts`` with what its rows were judged by, after ``electrolyte`` and ``role``: the
    role's ``potential``, the window (``reduction_limit_v``, and ``upper_limit_v``: the
    oxidation limit or the collector cap) and the role's band (``band_min_v``, ``band_max_v``,
    empty where open; ``margin_on_band``: the whole interval must lie in it). One row per
    electrolyte and role, in that order: zeros where nothing was screened (every line of a
    library rejected)."""
    roles = list(roles)
    counts = every_pair_counted(counts, list(electrolytes), [role.name for role in roles])
    by_name = {role.name: role for role in roles}
    pairs = list(zip(counts["electrolyte"], counts["role"], strict=True))
    role_of = [by_name[role] for _, role in pairs]
    window_of = [electrolytes[electrolyte] for electrolyte, _ in pairs]
    judged = pd.DataFrame(
        {
            "potential": [role.potential for role in role_of],
            "reduction_limit_v": [window.reduction_limit_v for window in window_of],
            "upper_limit_v": [upper_limit_v(window, collector_max_v) for window in window_of],
            "band_min_v": [role.band_min_v for role in role_of],
            "band_max_v": [role.band_max_v for role in role_of],
            "margin_on_band": [role.margin_on_band for role in role_of],
        },
        index=counts.index,
    ).astype({"reduction_limit_v": float, "upper_limit_v": float, "band_min_v": float,
              "band_max_v": float, "margin_on_band": bool})  # fmt: skip
    counted = counts.drop(columns=["electrolyte", "role"])
    return pd.concat([counts[["electrolyte", "role"]], judged, counted], axis=1)


def every_pair_counted(
    counts: pd.DataFrame, electrolytes: list[str], roles: list[str]
) -> pd.DataFrame:
    """``counts`` (one row per pair, every other column a count) in the order of the
    electrolytes, then of the roles, with a row of zeros for each pair it lacks."""
    pairs = pd.MultiIndex.from_product([electrolytes, roles], names=["electrolyte", "role"])
    counted = counts.set_index(["electrolyte", "role"])
    unknown = counted.index.difference(pairs)
    if len(unknown) or counted.index.has_duplicates:
        raise ValueError(f"counts of pairs that are not screened, or counted twice: "
                         f"{list(unknown) or list(counted.index[counted.index.duplicated()])}")  # fmt: skip
    return counted.reindex(pairs, fill_value=0).astype("int64").reset_index()


def with_repeats_marked(candidates: pd.DataFrame) -> pd.DataFrame:
    """Passing rows with ``duplicate_of``: empty where the row is the first to list its
    molecule (canonical ``smiles``) for its electrolyte and role, otherwise that first row's
    ``id``. A library that lists a molecule twice keeps both rows; this says which to drop."""
    keys = ["electrolyte", "role", "smiles"]
    repeated = candidates.duplicated(keys, keep="first").to_numpy()
    group = candidates.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    first_ids = candidates["id"].to_numpy()[~repeated][group]  # groups number first rows
    return candidates.assign(**{DUPLICATE_OF: np.where(repeated, first_ids, "")})


def distinct_candidate_counts(counts: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """``counts`` with ``n_distinct_candidates``: the passing molecules per (electrolyte, role)
    that are not a repeat (see ``with_repeats_marked``)."""
    firsts = candidates[candidates[DUPLICATE_OF] == ""]
    distinct = firsts.groupby(["electrolyte", "role"], sort=False).size()
    keys = pd.MultiIndex.from_frame(counts[["electrolyte", "role"]])
    return counts.assign(n_distinct_candidates=distinct.reindex(keys, fill_value=0).to_numpy())
