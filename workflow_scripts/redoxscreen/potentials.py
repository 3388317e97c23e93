"""Converting labels to electrode potentials vs Li/Li+.

Each target declares the unit its labels come in and how that maps to a potential vs Li/Li+.
The reference offsets are configuration (``potentials`` in the config), not constants here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

import numpy as np

HARTREE_EV = 27.211386  # CODATA 2018, eV per Hartree

DEFAULT_REFERENCES = {
    # absolute (vacuum-referenced, solvated) energy in eV of Li+/Li: V vs Li = E(eV) - 1.40
    "li_absolute_ev": 1.40,
    # SHE on the Li/Li+ scale: V vs Li = V vs SHE + 3.04
    "she_vs_li_v": 3.04,
}

Conversion = Callable[[np.ndarray, Mapping[str, float]], np.ndarray]

CONVERSIONS: dict[str, Conversion] = {
    # an absolute IE or EA in eV: the study's convention
    "eV_absolute": lambda value, ref: value - ref["li_absolute_ev"],
    # a potential vs the standard hydrogen electrode
    "V_vs_SHE": lambda value, ref: value + ref["she_vs_li_v"],
    # already vs Li/Li+
    "V_vs_Li": lambda value, ref: value,
    # a Koopmans-type orbital energy in Hartree: IE ~ -HOMO, EA ~ -LUMO
    "hartree_orbital": lambda value, ref: -value * HARTREE_EV - ref["li_absolute_ev"],
}


def to_volts_vs_li(
    values: np.ndarray | float, conversion: str, references: Mapping[str, float] | None = None
) -> np.ndarray:
    """Convert labels or predictions in a target's unit to V vs Li/Li+."""
    if conversion not in CONVERSIONS:
        known = ", ".join(sorted(CONVERSIONS))
        raise KeyError(f"unknown conversion {conversion!r}; use one of {known}")
    return CONVERSIONS[conversion](np.asarray(values, dtype=float), with_defaults(references))


def with_defaults(references: Mapping[str, float] | None) -> dict[str, float]:
    """The configured reference offsets, the defaults where a key is missing."""
    return DEFAULT_REFERENCES | dict(references or {})


ENERGY_NAMES = {"oxidation": "ionization energy", "reduction": "electron affinity"}


class ImplausibleLabels(ValueError):
    """A screened target's labels look like another unit or sign than declared."""


def check_plausible_labels(
    molecules, screening: Mapping, targets: Mapping, references: Mapping
) -> None:
    """Raise ``ImplausibleLabels`` where a screened target's labels do not look like the
    ionization energies or electron affinities of organic molecules in eV:
    - their median, as an absolute energy in eV (its potential vs Li/Li+ plus
      ``li_absolute_ev``), lies outside the range ``screening.plausible_median_ev`` gives its
      kind: Hartree or kcal/mol read as eV, or a HOMO energy read as an ionization energy;
    - their interquartile range in eV (of three labels or more) lies outside
      ``screening.plausible_spread_ev``: an electron affinity in Hartree (median near 0 eV
      either way), or kcal/mol.
    Either would otherwise train and screen without a word.
    ``molecules``: a table with a column per target (ingestion's molecules.parquet)."""
    for kind in ENERGY_NAMES:
        target = screening[f"{kind}_target"]
        if not target or molecules[target].isna().all():
            continue
        labels = molecules[target].dropna().astype(float)
        check_median(kind, labels, screening, targets[target], references)
        check_spread(kind, labels, screening, targets[target])


def check_median(
    kind: str, labels, screening: Mapping, target: Mapping, references: Mapping
) -> None:
    """Refuse labels whose median lies outside ``screening.plausible_median_ev.<kind>``."""
    bounds = screening["plausible_median_ev"].get(kind)
    if not bounds:
        return
    low, high = bounds
    median = float(labels.median())
    volts = float(to_volts_vs_li(median, target["conversion"], references))
    energy = volts + with_defaults(references)["li_absolute_ev"]
    if not low <= energy <= high:
        raise ImplausibleLabels(
            f"screening.{kind}_target {screening[f'{kind}_target']}: its median label "
            f"{median:.4g} {target['unit']} ({target['conversion']}) is an {ENERGY_NAMES[kind]} "
            f"of {energy:.3g} eV ({kind} potential {volts:.3g} V vs Li/Li+), outside the "
            f"{low:g} to {high:g} eV of screening.plausible_median_ev.{kind}: "
            f"{unit_question(target)} or of the other sign, or its conversion wrong? "
            f"To use these labels, set screening.plausible_median_ev.{kind}: null"
        )


# Fewer labels have no spread to speak of (one label spans 0 eV).
MIN_LABELS_FOR_SPREAD = 3


def check_spread(kind: str, labels, screening: Mapping, target: Mapping) -> None:
    """Refuse labels whose interquartile range in eV lies outside
    ``screening.plausible_spread_ev.<kind>``; fewer than ``MIN_LABELS_FOR_SPREAD`` pass."""
    bounds = screening["plausible_spread_ev"].get(kind)
    if not bounds or len(labels) < MIN_LABELS_FOR_SPREAD:
        return
    low, high = bounds
    spread = float(labels.quantile(0.75) - labels.quantile(0.25))
    spread_ev = spread * volts_per_unit(target["conversion"])
    in_ev = "" if volts_per_unit(target["conversion"]) == 1 else f" is {spread_ev:.3g} eV,"
    if not low <= spread_ev <= high:
        raise ImplausibleLabels(
            f"screening.{kind}_target {screening[f'{kind}_target']}: the interquartile range "
            f"of its {len(labels)} labels, {spread:.3g} {target['unit']} "
            f"({target['conversion']}),{in_ev} lies outside the {low:g} to "
            f"{high:g} eV of screening.plausible_spread_ev.{kind} for {ENERGY_NAMES[kind]} "
            f"labels: {unit_question(target)}? "
            f"To use these labels, set screening.plausible_spread_ev.{kind}: null"
        )


def unit_question(target: Mapping) -> str:
    """The question a plausibility refusal asks about a target's column."""
    return (
        f"is column {target['column']!r} in another unit (1 Hartree = 27.211 eV; "
        "1 eV = 23.06 kcal/mol = 96.49 kJ/mol)"
    )


# |dV/dvalue| of each conversion: every conversion is affine, so an interval half-width in the
# label's unit maps to volts by this one factor, whatever the reference offsets are.
VOLTS_PER_UNIT: dict[str, float] = {
    "eV_absolute": 1.0,
    "V_vs_SHE": 1.0,
    "V_vs_Li": 1.0,
    "hartree_orbital": HARTREE_EV,
}


def volts_per_unit(conversion: str) -> float:
    """Volts per label unit of a conversion: turns a half-width in the label unit into volts."""
    if conversion not in VOLTS_PER_UNIT:
        known = ", ".join(sorted(VOLTS_PER_UNIT))
        raise KeyError(f"unknown conversion {conversion!r}; use one of {known}")
    return VOLTS_PER_UNIT[conversion]


# What each conversion reads, for messages.
CONVERSION_READS = {
    "eV_absolute": "absolute energies in eV",
    "V_vs_SHE": "potentials in V vs SHE",
    "V_vs_Li": "potentials in V vs Li/Li+",
    "hartree_orbital": "orbital energies in Hartree",
}

# eV per label unit of the units whose scale is known, by every spelling's ``unit_key``. A
# unit named otherwise only labels tables and figures.
HARTREE_SPELLINGS = ("hartree", "hartrees", "ha", "eh", "au", "atomicunit", "atomicunits")
KNOWN_UNIT_EV: dict[str, float] = {
    **dict.fromkeys(("ev", "electronvolt", "electronvolts", "v", "volt", "volts"), 1.0),
    **dict.fromkeys(HARTREE_SPELLINGS, HARTREE_EV),
    **dict.fromkeys(("mev", "mv", "millivolt", "millivolts"), 1e-3),
    **dict.fromkeys(("mha", "meh", "millihartree", "millihartrees"), 1e-3 * HARTREE_EV),
    **dict.fromkeys(("kcal/mol", "kcal/mole", "kcalmol-1"), 0.0433641),  # per molecule
    **dict.fromkeys(("kj/mol", "kj/mole", "kjmol-1"), 0.0103643),
}


def unit_key(unit: str) -> str:
    """A unit's spelling without case, spaces, dots, underscores or ``^`` (``a.u.``: ``au``,
    ``kcal mol^-1``: ``kcalmol-1``); mega-units (``MeV``, ``MV``) keep their capital."""
    compact = re.sub(r"[\s._^]", "", unit)
    return compact if compact in ("MeV", "MV") else compact.lower()


def unit_contradiction(unit: str, conversion: str) -> str | None:
    """Why a target's known ``unit`` contradicts its ``conversion`` (whose scale alone decides
    the arithmetic), and what each conversion reads; None when their scales agree or the unit
    is unknown."""
    key = unit_key(unit)
    unit_ev = 1e6 if key in ("MeV", "MV") else KNOWN_UNIT_EV.get(key)
    if unit_ev is None or math.isclose(unit_ev, volts_per_unit(conversion)):
        return None
    readable = "; ".join(f"{name} reads {what}" for name, what in CONVERSION_READS.items())
    advice = (
        "choose the conversion that reads the labels"
        if any(math.isclose(unit_ev, volts) for volts in VOLTS_PER_UNIT.values())
        else f"no conversion reads {unit}: convert the labels to eV, V or Hartree first"
    )
    return (
        f"unit {unit!r} ({unit_ev:g} eV) does not fit conversion {conversion!r}, which reads "
        f"{CONVERSION_READS[conversion]}; {advice} ({readable})"
    )
