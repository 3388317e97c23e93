"""Converting labels to electrode potentials vs Li/Li+.

Each target declares the unit its labels come in and how that maps to a potential vs Li/Li+.
The reference offsets are configuration (``potentials`` in the config), not constants here.
"""

from __future__ import annotations

import math
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
    merged = DEFAULT_REFERENCES | dict(references or {})
    return CONVERSIONS[conversion](np.asarray(values, dtype=float), merged)


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


# Volts per label unit of the units whose scale is known, by their name in lower case without
# spaces. A unit named otherwise only labels tables and figures.
KNOWN_UNIT_VOLTS: dict[str, float] = {
    "ev": 1.0,
    "v": 1.0,
    "hartree": HARTREE_EV,
    "ha": HARTREE_EV,
    "eh": HARTREE_EV,
    "au": HARTREE_EV,
    "a.u.": HARTREE_EV,
    "mev": 1e-3,
    "mv": 1e-3,
    "kcal/mol": 0.0433641,  # eV per molecule
    "kj/mol": 0.0103643,
}


def unit_contradiction(unit: str, conversion: str) -> str | None:
    """Why a target's known ``unit`` contradicts its ``conversion`` (whose scale alone decides
    the arithmetic), with the conversion to use; None when they agree or the unit is unknown."""
    unit_volts = KNOWN_UNIT_VOLTS.get(unit.replace(" ", "").lower())
    conversion_volts = volts_per_unit(conversion)
    if unit_volts is None or math.isclose(unit_volts, conversion_volts):
        return None
    fitting = [name for name, volts in VOLTS_PER_UNIT.items() if math.isclose(volts, unit_volts)]
    advice = (
        f"use conversion {' or '.join(fitting)}"
        if fitting
        else "no conversion reads that unit: convert the labels to eV, V or Hartree"
    )
    return (
        f"unit {unit!r} is {unit_volts:g} V per unit, but conversion {conversion!r} reads "
        f"{conversion_volts:g} V per unit; {advice}"
    )
