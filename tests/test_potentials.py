import numpy as np
import pytest

from redoxscreen.potentials import to_volts_vs_li


@pytest.mark.parametrize(
    ("value", "conversion", "expected"),
    [
        (6.0, "eV_absolute", 4.60),  # IE 6.0 eV -> 6.0 - 1.40
        (2.9, "eV_absolute", 1.50),
        (0.0, "V_vs_SHE", 3.04),  # SHE is 3.04 V vs Li/Li+
        (-0.5, "V_vs_SHE", 2.54),
        (3.2, "V_vs_Li", 3.2),
        (-0.25, "hartree_orbital", 0.25 * 27.211386 - 1.40),  # HOMO -0.25 Eh -> IE 6.80 eV
    ],
)
def test_conversions_match_hand_computed_values(value, conversion, expected):
    assert to_volts_vs_li(value, conversion) == pytest.approx(expected)


def test_reference_offsets_are_configuration():
    shifted = to_volts_vs_li(np.array([6.0, 7.0]), "eV_absolute", {"li_absolute_ev": 1.44})
    np.testing.assert_allclose(shifted, [4.56, 5.56])


def test_unknown_conversion_is_named():
    with pytest.raises(KeyError, match="V_vs_Mars"):
        to_volts_vs_li(1.0, "V_vs_Mars")
