import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from redoxscreen.potentials import CONVERSIONS, to_volts_vs_li, volts_per_unit
from redoxscreen.screen_stage import (
    ScreeningPlan,
    check_per_molecule_interval,
    library_half_widths,
    library_parts,
    library_predictions,
    screen_library,
    with_input_columns,
)
from redoxscreen.screening import (
    CRITERIA_COLUMNS,
    Electrolyte,
    Role,
    ScreeningConfigError,
    candidate_counts,
    distinct_candidate_counts,
    potentials_table,
    read_electrolytes,
    screen,
    with_criteria,
    with_repeats_marked,
)
from redoxscreen.screening_plots import (
    NOT_SEARCHED,
    potential_histogram,
    similarity_histogram,
)
from redoxscreen.summary import architecture_text, run_summary
from redoxscreen.tables import write_table

REPO = Path(__file__).resolve().parents[1]
ACETONITRILE = Electrolyte("acetonitrile", reduction_limit_v=0.44, oxidation_limit_v=6.54)
CATHODE = Role("cathode", "oxidation", band_min_v=3.0, band_max_v=3.29)
ANODE = Role("anode", "reduction", band_min_v=1.8)
WIDE_OPEN = Role("any_oxidation", "oxidation")


def potentials(e_ox, e_ox_half_width, e_red=None, e_red_half_width=None):
    """A potentials table in V vs Li/Li+, one molecule per value."""
    n = len(e_ox)
    return pd.DataFrame(
        {
            "id": [f"m{i}" for i in range(n)],
            "smiles": ["C"] * n,
            "e_ox_v_li": e_ox,
            "e_ox_half_width_v": e_ox_half_width,
            "e_red_v_li": e_red if e_red is not None else [np.nan] * n,
            "e_red_half_width_v": e_red_half_width if e_red_half_width is not None else [0.0] * n,
        }
    )


def row(screened, molecule, electrolyte="acetonitrile", role="cathode"):
    match = screened[
        (screened.id == molecule) & (screened.electrolyte == electrolyte) & (screened.role == role)
    ]
    assert len(match) == 1
    return match.iloc[0]


# --- conversions -------------------------------------------------------------------------


def test_ionization_energy_4_80_ev_is_3_40_v_vs_li():
    assert to_volts_vs_li(4.80, "eV_absolute") == pytest.approx(3.40)


@pytest.mark.parametrize(
    ("conversion", "half_width", "expected_v"),
    [
        ("eV_absolute", 0.2, 0.2),
        ("V_vs_SHE", 0.15, 0.15),
        ("V_vs_Li", 0.1, 0.1),
        ("hartree_orbital", 0.002, 0.0544),  # 0.002 Eh x 27.211386 eV/Eh = 0.05442 V
    ],
)
def test_half_widths_scale_to_volts(conversion, half_width, expected_v):
    assert half_width * volts_per_unit(conversion) == pytest.approx(expected_v, abs=5e-5)


def test_volts_per_unit_is_the_slope_of_every_conversion():
    for conversion in CONVERSIONS:
        slope = to_volts_vs_li(1.0, conversion) - to_volts_vs_li(0.0, conversion)
        assert volts_per_unit(conversion) == pytest.approx(abs(slope))


def test_volts_per_unit_names_an_unknown_conversion():
    with pytest.raises(KeyError, match="V_vs_Mars"):
        volts_per_unit("V_vs_Mars")


def test_potentials_table_converts_each_target_with_its_unit():
    predictions = pd.DataFrame(
        {
            "id": ["a", "b"],
            "smiles": ["CC", "CO"],
            "IE_pred": [4.80, 6.00],
            "IE_half_width": [0.2, 0.3],
            "LUMO_pred": [-0.10, np.nan],
            "LUMO_half_width": [0.002, 0.002],
        }
    )
    targets = {
        "oxidation": {"target": "IE", "conversion": "eV_absolute", "references": {}},
        "reduction": {"target": "LUMO", "conversion": "hartree_orbital"},
    }
    table = potentials_table(predictions, targets)
    assert list(table.columns) == [
        "id",
        "smiles",
        "e_ox_v_li",
        "e_ox_half_width_v",
        "e_red_v_li",
        "e_red_half_width_v",
    ]
    np.testing.assert_allclose(table.e_ox_v_li, [3.40, 4.60])
    np.testing.assert_allclose(table.e_ox_half_width_v, [0.2, 0.3])
    assert table.e_red_v_li[0] == pytest.approx(0.10 * 27.211386 - 1.40)  # 1.3211 V
    assert np.isnan(table.e_red_v_li[1])
    np.testing.assert_allclose(table.e_red_half_width_v, [0.0544, 0.0544], atol=5e-5)


def test_potentials_table_keeps_only_the_kinds_asked_for():
    predictions = pd.DataFrame(
        {"id": ["a"], "smiles": ["C"], "IE_pred": [5.0], "IE_half_width": [0.1]}
    )
    table = potentials_table(
        predictions, {"oxidation": {"target": "IE", "conversion": "eV_absolute"}}
    )
    assert list(table.columns) == ["id", "smiles", "e_ox_v_li", "e_ox_half_width_v"]


def test_potentials_table_names_missing_prediction_columns():
    predictions = pd.DataFrame({"id": ["a"], "smiles": ["C"], "EA_pred": [1.0]})
    with pytest.raises(KeyError, match="EA_half_width"):
        potentials_table(predictions, {"reduction": {"target": "EA", "conversion": "eV_absolute"}})


# --- windows -----------------------------------------------------------------------------


def test_a_molecule_exactly_on_the_reduction_edge_is_inside_without_margin_only():
    # EA 1.84 eV -> 0.44 V vs Li/Li+, acetonitrile's reduction limit (float-subtraction exact)
    predictions = pd.DataFrame(
        {
            "id": ["edge", "edge_with_margin"],
            "smiles": ["C", "C"],
            "EA_pred": [1.84, 1.84],
            "EA_half_width": [0.0, 0.1],
        }
    )
    table = potentials_table(
        predictions, {"reduction": {"target": "EA", "conversion": "eV_absolute"}}
    )
    anywhere = Role("any_reduction", "reduction")
    screened = screen(table, [ACETONITRILE], [anywhere], collector_max_v=None)
    edge = row(screened, "edge", role="any_reduction")
    with_margin = row(screened, "edge_with_margin", role="any_reduction")
    assert edge.in_window and edge.passes
    assert with_margin.low_v == pytest.approx(0.34)
    assert not with_margin.in_window and not with_margin.passes


def test_a_molecule_exactly_on_the_upper_edge_is_inside_without_margin_only():
    screened = screen(potentials([4.7, 4.7], [0.0, 0.05]), [ACETONITRILE], [WIDE_OPEN], 4.7)
    assert row(screened, "m0", role="any_oxidation").passes
    outside = row(screened, "m1", role="any_oxidation")
    assert outside.high_v == pytest.approx(4.75)
    assert not outside.in_window


def test_the_aluminium_cap_beats_acetonitriles_oxidation_limit():
    screened = screen(potentials([5.0, 4.5], [0.1, 0.1]), [ACETONITRILE], [WIDE_OPEN], 4.7)
    assert set(screened.upper_limit_v) == {4.7}
    assert not row(screened, "m0", role="any_oxidation").in_window  # 5.1 V < 6.54 but > 4.7
    assert row(screened, "m1", role="any_oxidation").in_window  # 4.6 V <= 4.7
    uncapped = screen(potentials([5.0], [0.1]), [ACETONITRILE], [WIDE_OPEN], None)
    assert uncapped.upper_limit_v.iloc[0] == 6.54
    assert uncapped.in_window.iloc[0]


def test_a_collector_above_the_electrolyte_limit_does_not_widen_the_window():
    narrow = Electrolyte("narrow", 1.0, 4.0)
    screened = screen(potentials([4.05], [0.0]), [narrow], [WIDE_OPEN], 4.7)
    assert screened.upper_limit_v.iloc[0] == 4.0
    assert not screened.passes.iloc[0]


# --- bands -------------------------------------------------------------------------------


def test_cathode_band_is_checked_on_the_point_estimate():
    screened = screen(potentials([3.1, 3.35], [0.2, 0.2]), [ACETONITRILE], [CATHODE], 4.7)
    inside, above = row(screened, "m0"), row(screened, "m1")
    assert inside.in_window and inside.in_band and inside.passes
    assert above.in_window and not above.in_band and not above.passes


def test_cathode_band_with_margin_needs_the_whole_interval_inside():
    strict = Role("cathode", "oxidation", band_min_v=3.0, band_max_v=3.29, margin_on_band=True)
    screened = screen(potentials([3.1, 3.15], [0.2, 0.1]), [ACETONITRILE], [strict], 4.7)
    wide = row(screened, "m0")  # [2.9, 3.3] leaves 3.0-3.29 at both ends
    narrow = row(screened, "m1")  # [3.05, 3.25] sits inside
    assert wide.in_window and not wide.in_band and not wide.passes
    assert narrow.passes


def test_anode_role_uses_the_reduction_potential_with_an_open_upper_band():
    table = potentials(
        e_ox=[3.0, 3.0, 3.0],
        e_ox_half_width=[0.1, 0.1, 0.1],
        e_red=[1.9, 1.7, 2.6],
        e_red_half_width=[0.2, 0.2, 0.2],
    )
    screened = screen(table, [ACETONITRILE], [ANODE], 4.7)
    assert set(screened.potential) == {"reduction"}
    assert row(screened, "m0", role="anode").passes  # 1.9 >= 1.8
    assert not row(screened, "m1", role="anode").in_band  # 1.7 < 1.8
    assert row(screened, "m2", role="anode").passes  # no upper band edge
    np.testing.assert_allclose(screened.potential_v_li, [1.9, 1.7, 2.6])


def test_screen_is_long_with_one_row_per_molecule_electrolyte_and_role():
    carbonate = Electrolyte("propylene_carbonate", 1.0, 5.0)
    table = potentials([3.1, 3.2], [0.1, 0.1], e_red=[1.9, 2.0], e_red_half_width=[0.1, 0.1])
    screened = screen(table, {"a": ACETONITRILE, "b": carbonate}, [CATHODE, ANODE], 4.7)
    assert len(screened) == 2 * 2 * 2
    assert screened.groupby(["id", "electrolyte", "role"]).size().eq(1).all()
    assert {"low_v", "high_v", "upper_limit_v", "in_window", "in_band", "passes", "note"} <= set(
        screened.columns
    )


# --- missing values ----------------------------------------------------------------------


def test_missing_or_infinite_potentials_fail_everything_and_say_why():
    table = potentials(
        [np.nan, 3.1, 3.1, np.inf, -np.inf, 3.1], [0.1, np.nan, 0.1, 0.1, 0.1, np.inf]
    )
    screened = screen(table, [ACETONITRILE], [CATHODE, WIDE_OPEN], 4.7)
    notes = {
        "m0": "no predicted oxidation potential",
        "m1": "no half-width for the oxidation potential",
        "m3": "an infinite predicted oxidation potential",
        "m4": "an infinite predicted oxidation potential",
        "m5": "an infinite half-width for the oxidation potential",
    }
    for role in ("cathode", "any_oxidation"):
        for molecule, note in notes.items():
            unusable = row(screened, molecule, role=role)
            assert not unusable.in_window and not unusable.in_band and not unusable.passes
            assert unusable.note == note
        assert row(screened, "m2", role=role).note == ""


def test_a_role_whose_potential_was_not_predicted_is_named():
    table = potentials([3.1], [0.1]).drop(columns=["e_red_v_li", "e_red_half_width_v"])
    with pytest.raises(KeyError, match="anode.*e_red_v_li"):
        screen(table, [ACETONITRILE], [ANODE], 4.7)


# --- counts ------------------------------------------------------------------------------


def test_candidate_counts_include_pairs_with_no_candidates():
    carbonate = Electrolyte("propylene_carbonate", 1.0, 5.0)
    table = potentials(
        [3.1, 3.2, 3.5], [0.1, 0.1, 0.1], e_red=[0.5, 0.6, 0.7], e_red_half_width=[0.1] * 3
    )
    counts = candidate_counts(screen(table, [ACETONITRILE, carbonate], [CATHODE, ANODE], 4.7))
    by_pair = counts.set_index(["electrolyte", "role"])
    assert len(counts) == 4
    assert by_pair.loc[("acetonitrile", "cathode"), "n_candidates"] == 2
    assert by_pair.loc[("propylene_carbonate", "cathode"), "n_candidates"] == 2
    assert by_pair.loc[("acetonitrile", "anode"), "n_candidates"] == 0
    assert by_pair.loc[("propylene_carbonate", "anode"), "n_candidates"] == 0
    assert (counts.n_screened == 3).all()


def test_counts_say_what_their_rows_were_judged_by():
    carbonate = Electrolyte("propylene_carbonate", 1.0, 5.0)
    electrolytes = {"acetonitrile": ACETONITRILE, "propylene_carbonate": carbonate}
    whole = Role("whole", "oxidation", band_min_v=3.0, margin_on_band=True)
    table = potentials([3.1, 3.5], [0.1] * 2, e_red=[2.0] * 2, e_red_half_width=[0.1] * 2)
    counts = candidate_counts(screen(table, electrolytes, [ANODE, whole], 4.7))
    judged = with_criteria(counts, electrolytes, [whole, ANODE], 4.7)
    assert list(judged.columns) == ["electrolyte", "role", *CRITERIA_COLUMNS, *counts.columns[2:]]
    by_pair = judged.set_index(["electrolyte", "role"])[CRITERIA_COLUMNS]
    assert by_pair.loc[("acetonitrile", "anode")].dropna().tolist() == [
        "reduction", 0.44, 4.7, 1.8, False]  # fmt: skip
    assert by_pair.loc[("propylene_carbonate", "whole")].dropna().tolist() == [
        "oxidation", 1.0, 4.7, 3.0, True]  # fmt: skip
    assert judged["band_max_v"].isna().all()  # open bands are empty
    pairs = ["electrolyte", "role"]
    assert (
        judged[counts.columns]
        .set_index(pairs)
        .sort_index()
        .equals(counts.set_index(pairs).sort_index())
    )  # the counts unchanged, in the order of the electrolytes and then of the roles given
    assert judged["role"].tolist() == ["whole", "anode"] * 2
    assert with_criteria(counts, electrolytes, [whole, ANODE], None)["upper_limit_v"].tolist() == [
        6.54, 6.54, 5.0, 5.0]  # no collector: the electrolytes' own limits  # fmt: skip


def test_counts_hold_every_electrolyte_and_role_when_nothing_was_screened():
    electrolytes = {"acetonitrile": ACETONITRILE, "carbonate": Electrolyte("carbonate", 1.0, 5.0)}
    nothing = candidate_counts(screen(potentials([], []), electrolytes, [CATHODE, ANODE], 4.7))
    assert nothing.empty  # every line of a library rejected: no row screened
    judged = with_criteria(nothing, electrolytes, [CATHODE, ANODE], 4.7)
    assert judged.columns.tolist() == [
        "electrolyte",
        "role",
        *CRITERIA_COLUMNS,
        *nothing.columns[2:],
    ]
    assert judged[["electrolyte", "role"]].values.tolist() == [
        ["acetonitrile", "cathode"], ["acetonitrile", "anode"],
        ["carbonate", "cathode"], ["carbonate", "anode"]]  # fmt: skip
    assert (judged[["n_screened", "n_candidates"]] == 0).all().all()
    assert judged["n_candidates"].dtype == np.int64
    with pytest.raises(
        ValueError, match=r"not screened, or counted twice: \[\('water', 'cathode'\)\]"
    ):
        stray = pd.DataFrame({"electrolyte": ["water"], "role": ["cathode"], "n_screened": [1],
                              "n_candidates": [0]})  # fmt: skip
        with_criteria(stray, electrolytes, [CATHODE, ANODE], 4.7)


def test_candidate_counts_count_rows_so_that_chunks_add_up():
    table = potentials([3.1, 3.1, 3.5], [0.1] * 3).assign(id=["a", "a", "b"])  # 'a' twice
    screened = screen(table, [ACETONITRILE], [CATHODE], 4.7)
    whole = candidate_counts(screened)
    chunks = pd.concat([candidate_counts(screened[:1]), candidate_counts(screened[1:])])
    assert whole[["n_screened", "n_candidates"]].values.tolist() == [[3, 2]]
    assert chunks[["n_screened", "n_candidates"]].sum().tolist() == [3, 2]


def test_candidate_counts_of_nothing_is_an_empty_table_with_columns():
    counts = candidate_counts(screen(potentials([3.1], [0.1]), [], [CATHODE], 4.7))
    assert counts.empty
    assert list(counts.columns) == ["electrolyte", "role", "n_screened", "n_candidates"]


def test_a_molecule_listed_again_is_marked_as_a_duplicate_of_its_first_passing_row():
    table = potentials([3.5, 3.1, 3.2, 3.1], [0.1] * 4, e_red=[2.0] * 4, e_red_half_width=[0.1] * 4)
    table = table.assign(smiles=["c1ccccc1", "c1ccccc1", "CCO", "c1ccccc1"])  # m0 = m1 = m3
    carbonate = Electrolyte("propylene_carbonate", 1.0, 5.0)
    screened = screen(table, [ACETONITRILE, carbonate], [CATHODE, ANODE], 4.7)
    candidates = with_repeats_marked(screened[screened["passes"]])  # m0 is no cathode
    by_row = candidates.set_index(["electrolyte", "role", "id"])["duplicate_of"]
    assert by_row[("acetonitrile", "cathode", "m1")] == ""  # the first passing row of benzene
    assert by_row[("acetonitrile", "cathode", "m3")] == "m1"
    assert by_row[("acetonitrile", "anode", "m1")] == "m0"  # per electrolyte and role
    assert by_row[("propylene_carbonate", "anode", "m3")] == "m0"
    assert by_row.xs("m2", level="id").eq("").all()
    counts = distinct_candidate_counts(candidate_counts(screened), candidates)
    assert counts.columns[-1] == "n_distinct_candidates"
    assert counts.set_index(["electrolyte", "role"])[
        ["n_candidates", "n_distinct_candidates"]
    ].to_dict("index") == {
        (electrolyte, role): {"n_candidates": n, "n_distinct_candidates": 2}
        for electrolyte in ("acetonitrile", "propylene_carbonate")
        for role, n in (("cathode", 3), ("anode", 4))
    }


def test_a_repeat_names_its_first_rows_id_even_where_that_id_is_missing():
    table = potentials([3.1] * 4, [0.1] * 4).assign(
        id=[np.nan, "b", "c", "d"], smiles=["C", "C", "CC", "C"]
    )
    screened = screen(table, [ACETONITRILE], [CATHODE], 4.7)
    marked = with_repeats_marked(screened[screened["passes"]])["duplicate_of"].tolist()
    assert marked[0] == "" and marked[2] == "" and pd.isna(marked[1]) and pd.isna(marked[3])


def test_marking_no_candidates_gives_the_columns_and_zero_counts():
    screened = screen(potentials([9.0], [0.1]), [ACETONITRILE], [CATHODE], 4.7)
    candidates = with_repeats_marked(screened[screened["passes"]])
    assert candidates.empty and "duplicate_of" in candidates.columns
    counts = distinct_candidate_counts(candidate_counts(screened), candidates)
    assert counts["n_distinct_candidates"].tolist() == [0]
    empty = distinct_candidate_counts(
        candidate_counts(screened.iloc[:0]),
        with_repeats_marked(pd.DataFrame(columns=screened.columns)),
    )
    assert empty.empty and empty.columns[-1] == "n_distinct_candidates"


# --- electrolytes ------------------------------------------------------------------------


def test_the_repository_electrolyte_table_holds_the_study_window_for_acetonitrile():
    electrolytes = read_electrolytes(REPO / "config" / "electrolytes.tsv")
    assert electrolytes["acetonitrile"] == ACETONITRILE
    for electrolyte in electrolytes.values():
        assert electrolyte.reduction_limit_v < electrolyte.oxidation_limit_v
    sources = pd.read_csv(REPO / "config" / "electrolytes.tsv", sep="\t")["source"]
    assert sources.str.len().gt(10).all()  # every window says where it comes from


def test_a_bad_electrolyte_value_names_file_line_and_column(tmp_path):
    table = tmp_path / "electrolytes.tsv"
    table.write_text(
        "electrolyte\treduction_limit_v_li\toxidation_limit_v_li\tsource\n"
        "acetonitrile\t0.44\t6.54\tstudy\n"
        "mystery\tlow\t5.0\tnowhere\n"
    )
    with pytest.raises(ScreeningConfigError) as error:
        read_electrolytes(table)
    message = str(error.value)
    assert str(table) in message
    assert "line 3" in message
    assert "reduction_limit_v_li" in message
    assert "'low'" in message


def test_an_inverted_window_is_rejected_with_its_row(tmp_path):
    table = tmp_path / "electrolytes.tsv"
    table.write_text(
        "electrolyte\treduction_limit_v_li\toxidation_limit_v_li\nupside_down\t5.0\t1.0\n"
    )
    with pytest.raises(ScreeningConfigError, match=r"line 2 \(upside_down\).*oxidation_limit"):
        read_electrolytes(table)


def test_a_missing_electrolyte_column_is_named(tmp_path):
    table = tmp_path / "electrolytes.tsv"
    table.write_text("electrolyte\treduction_limit_v_li\nacetonitrile\t0.44\n")
    with pytest.raises(ScreeningConfigError, match="oxidation_limit_v_li"):
        read_electrolytes(table)


def test_a_duplicated_electrolyte_is_rejected(tmp_path):
    table = tmp_path / "electrolytes.tsv"
    table.write_text(
        "electrolyte\treduction_limit_v_li\toxidation_limit_v_li\n"
        "acetonitrile\t0.44\t6.54\nacetonitrile\t0.5\t6.0\n"
    )
    with pytest.raises(ScreeningConfigError, match="line 3.*listed twice"):
        read_electrolytes(table)


# --- roles -------------------------------------------------------------------------------


def test_role_from_config_reads_every_key():
    role = Role.from_config(
        "cathode",
        {"potential": "oxidation", "band_min_v": 3, "band_max_v": 3.29, "margin_on_band": True},
    )
    assert role == Role("cathode", "oxidation", 3.0, 3.29, True)
    assert Role.from_config("anode", {"potential": "reduction", "band_min_v": 1.8}) == ANODE


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"potential": "oxidation", "band_mim_v": 3.0}, "screening.roles.cathode.band_mim_v"),
        ({"band_min_v": 3.0}, "screening.roles.cathode.potential"),
        ({"potential": "anodic"}, "screening.roles.cathode.potential"),
        ({"potential": "oxidation", "band_min_v": "3.0"}, "screening.roles.cathode.band_min_v"),
        ({"potential": "oxidation", "band_max_v": True}, "screening.roles.cathode.band_max_v"),
        (
            {"potential": "oxidation", "band_min_v": 3.5, "band_max_v": 3.0},
            "screening.roles.cathode.band_min_v",
        ),
        (
            {"potential": "oxidation", "margin_on_band": "yes"},
            "screening.roles.cathode.margin_on_band",
        ),
    ],
)
def test_role_config_errors_name_the_key(settings, key):
    with pytest.raises(ScreeningConfigError) as error:
        Role.from_config("cathode", settings)
    assert str(error.value).startswith(key + ":")


# --- figure ------------------------------------------------------------------------------


def test_potential_histogram_writes_a_png(tmp_path):
    rng = np.random.default_rng(0)
    table = potentials(
        list(rng.normal(4.0, 0.6, 400)),
        list(rng.uniform(0.15, 0.3, 400)),
        e_red=list(rng.normal(1.5, 0.5, 400)),
        e_red_half_width=[0.25] * 400,
    )
    path = tmp_path / "figures" / "oxidation_acetonitrile.png"
    potential_histogram(table, ACETONITRILE, [CATHODE, ANODE], 4.7, "oxidation", path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind


def test_potential_histogram_of_reduction_potentials_with_missing_values(tmp_path):
    table = potentials([3.0, 3.2], [0.1, 0.1], e_red=[np.nan, 1.9], e_red_half_width=[0.2, 0.2])
    path = tmp_path / "reduction.png"
    potential_histogram(table, ACETONITRILE, {"anode": ANODE}, None, "reduction", path)
    assert path.stat().st_size > 10_000


def figure_texts(figure) -> tuple[list[str], list[str]]:
    """The legend's entries and the other texts on a figure's axes."""
    axes = figure.axes[0]
    legend = axes.get_legend()
    entries = [text.get_text() for text in legend.get_texts()] if legend else []
    return entries, [text.get_text() for text in axes.texts]


def test_similarity_histogram_writes_a_png_searched_or_not(tmp_path):
    rng = np.random.default_rng(0)
    ie = rng.uniform(0.2, 1.0, 300)
    similarities = {"IE": ie, "EA": np.append(rng.uniform(0, 1, 299), np.nan)}
    figure = similarity_histogram(similarities, 0.4, tmp_path / "similarity.png")
    assert (tmp_path / "similarity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "similarity.png").stat().st_size > 10_000
    entries, notes = figure_texts(figure)
    assert entries[0].startswith("IE (median") and entries[1].startswith("EA (median")
    assert entries[2] == "screening.min_similarity 0.4" and notes == []
    # IE and EA trained on the same molecules: drawn once
    figure = similarity_histogram({"IE": ie, "EA": ie.copy()}, None, tmp_path / "shared.png")
    assert figure_texts(figure)[0] == [f"IE and EA (median {np.median(ie):.2f})"]
    # EA's models recorded no training molecules: named, not left out
    figure = similarity_histogram(
        {"IE": ie, "EA": np.full(300, np.nan)}, None, tmp_path / "one.png"
    )
    assert figure_texts(figure)[0][1] == f"EA: {NOT_SEARCHED}"
    figure = similarity_histogram({"IE": np.full(3, np.nan)}, None, tmp_path / "unsearched.png")
    assert figure_texts(figure)[1] == [NOT_SEARCHED]  # predict.similarity: false
    figure = similarity_histogram({"IE": np.zeros(0)}, 0.4, tmp_path / "no_rows.png")
    entries, notes = figure_texts(figure)  # every line failed
    assert notes == ["no library rows screened"] and entries == ["screening.min_similarity 0.4"]
    assert (tmp_path / "no_rows.png").stat().st_size > 5_000


def test_screened_rows_keep_their_molecules_library_columns():
    screened = screen(potentials([3.1, 5.0], [0.1, 0.1]), [ACETONITRILE], [CATHODE, WIDE_OPEN], 4.7)
    inputs = pd.DataFrame({"id": ["m0", "m1"], "vendor": ["V-7", "V-9"], "note": ["a", "b"]})
    carried = with_input_columns(screened, inputs)
    assert list(carried.columns) == [*screened.columns, "vendor", "input_note"]
    assert (
        carried[["id", "vendor", "input_note"]].values.tolist()
        == [["m0", "V-7", "a"], ["m1", "V-9", "b"]] * 2
    )  # one block per role, each in the molecules' order
    with pytest.raises(ValueError, match="not in the molecules' order"):
        with_input_columns(screened, inputs.iloc[::-1])
    empty = with_input_columns(screened.iloc[:0], inputs.iloc[:0])
    assert list(empty.columns) == list(carried.columns) and empty.empty


def test_a_library_column_named_like_a_column_that_screening_adds_is_carried_as_input_():
    screened = screen(potentials([3.1], [0.1]), [ACETONITRILE], [CATHODE], 4.7)
    inputs = pd.DataFrame(
        {"id": ["m0"], "IE_similarity": [0.9], "Familiar": ["yes"], "duplicate_of": ["x"]}
    )
    carried = with_input_columns(screened, inputs)  # as a prediction made before 'familiar'
    assert list(carried.columns)[-3:] == ["IE_similarity", "input_Familiar", "input_duplicate_of"]
    plan = ScreeningPlan({"oxidation": {"target": "IE"}}, {}, [CATHODE], 4.7, min_similarity=0.5)
    judged = plan.judge_similarity(carried)
    assert judged["familiar"].tolist() == [True] and judged["input_Familiar"].tolist() == ["yes"]


def judged(min_similarity, ie_similarity, ea_similarity):
    """Three molecules screened as cathode (at the oxidation potential, IE) and anode (at the
    reduction potential, EA), every row inside its window and band, then judged by
    similarity."""
    table = potentials([3.1] * 3, [0.1] * 3, e_red=[2.0] * 3, e_red_half_width=[0.1] * 3)
    screened = screen(table, [ACETONITRILE], [CATHODE, ANODE], 4.7)
    similarities = {"IE_similarity": ie_similarity, "EA_similarity": ea_similarity}
    screened = with_input_columns(screened, pd.DataFrame({"id": table["id"], **similarities}))
    targets = {"oxidation": {"target": "IE"}, "reduction": {"target": "EA"}}
    plan = ScreeningPlan(targets, {}, [CATHODE, ANODE], 4.7, min_similarity=min_similarity)
    return plan.judge_similarity(screened)


def test_a_library_molecule_unlike_the_training_molecules_does_not_pass():
    rows = judged(0.4, ie_similarity=[0.9, 0.4, 0.2], ea_similarity=[0.3, 0.5, 1.0])
    assert rows.columns.get_loc("familiar") == rows.columns.get_loc("passes") - 1
    by_role = rows.set_index(["role", "id"])
    # each role is judged at its own target's similarity; 0.4 itself is alike enough
    assert by_role.loc["cathode", "familiar"].tolist() == [True, True, False]
    assert by_role.loc["anode", "familiar"].tolist() == [False, True, True]
    assert rows["in_window"].all() and rows["in_band"].all()
    assert (rows["passes"] == rows["familiar"]).all()
    counts = candidate_counts(rows).set_index("role")
    assert counts[["n_candidates", "n_unfamiliar"]].to_dict("index") == {
        "cathode": {"n_candidates": 2, "n_unfamiliar": 1},
        "anode": {"n_candidates": 2, "n_unfamiliar": 1},
    }
    anyhow = judged(None, ie_similarity=[0.9, 0.4, 0.2], ea_similarity=[np.nan] * 3)
    assert anyhow["familiar"].all() and anyhow["passes"].all()  # no threshold, no search needed
    assert candidate_counts(anyhow)["n_unfamiliar"].tolist() == [0, 0]


def test_a_similarity_threshold_without_similarities_is_refused():
    with pytest.raises(ValueError) as error:
        judged(0.4, ie_similarity=[0.9, 0.4, 0.2], ea_similarity=[0.5, np.nan, np.nan])
    assert str(error.value) == (
        "screening.min_similarity is 0.4, but 2 reduction rows have no EA_similarity (predicted "
        "with predict.similarity: false, or by models without training_molecules.parquet); "
        "predict the library with the search, or set screening.min_similarity: null"
    )


def test_a_library_without_parts_or_predicted_without_the_search_is_refused(tmp_path):
    predicted = tmp_path / "predict"
    predicted.mkdir()
    with pytest.raises(ValueError) as error:
        library_parts(str(predicted))
    assert str(error.value) == (
        f"{predicted} holds no prediction part (part-<N>.parquet): "
        "delete the folder and predict the library again"
    )
    part = pd.DataFrame({"line": [1], "id": ["m0"], "input_smiles": ["CCO"], "smiles": ["CCO"],
                         "error": [""], "IE_pred": [4.6], "IE_spread": [0.01],
                         "IE_half_width": [0.05], "IE_study": [4.6]})  # fmt: skip
    part.to_parquet(predicted / "part-00000.parquet")  # as predicted before the search
    paths = library_parts(str(predicted))
    assert paths == [str(predicted / "part-00000.parquet")]
    plan = ScreeningPlan({"oxidation": {"target": "IE"}}, {}, [CATHODE], 4.7)
    out = {name: str(tmp_path / name) for name in ("candidates.csv", "counts.tsv", "rejected.tsv")}
    with pytest.raises(ValueError) as error:
        screen_library(paths, plan, {"IE": 0.1}, str(tmp_path / "screened"), out["candidates.csv"],
                       out["counts.tsv"], out["rejected.tsv"], [], str(tmp_path / "s.png"))  # fmt: skip
    assert str(error.value) == (
        f"{paths[0]} has no column IE_similarity, IE_nearest: it was predicted by an earlier "
        "redoxscreen or for other targets; delete its folder and predict the library again"
    )


def test_a_librarys_half_widths_come_from_its_spreads_at_the_runs_level(tmp_path):
    # the workflow's predictions hold no half-width: screening computes it from the spread
    # and metrics.json, so a new level screens again and predicts nothing
    part = pd.DataFrame({"id": ["m0", "m1", "m2"], "smiles": ["C", "CC", "CCC"],
                         "IE_pred": [4.6, 4.7, np.nan], "IE_spread": [0.002, 0.03, np.nan]})  # fmt: skip
    widths = {}
    for level, scale in ((0.95, 2.5), (0.8, 1.5)):
        metrics = {
            "interval": {
                "level": level,
                "conformal": {"half_width": 0.12 * scale},
                "ensemble": {"scale": scale, "spread_floor": 0.01},
            }
        }
        path = tmp_path / f"metrics_{level}.json"
        path.write_text(json.dumps(metrics))
        per_molecule = library_half_widths({"IE": str(path)}, "ensemble")
        assert per_molecule == {"IE": metrics["interval"]["ensemble"]}
        widths[level] = library_predictions(part, ["IE"], per_molecule)["IE_half_width"]
        global_width = library_half_widths({"IE": str(path)}, "conformal")
        assert (
            library_predictions(part, ["IE"], global_width)["IE_half_width"].tolist()
            == [pytest.approx(0.12 * scale)] * 3
        )
    # the spread below the floor is raised to it; no spread, no half-width
    np.testing.assert_allclose(widths[0.95], [2.5 * 0.01, 2.5 * 0.03, np.nan])
    np.testing.assert_allclose(widths[0.8], [1.5 * 0.01, 1.5 * 0.03, np.nan])


def test_a_library_whose_every_line_was_rejected_counts_zero_candidates(tmp_path):
    predicted = tmp_path / "predict"
    predicted.mkdir()
    part = pd.DataFrame({"line": [1, 2], "id": ["m0", "m1"], "input_smiles": ["C1CC", "[U]"],
                         "smiles": ["", ""], "error": ["invalid_smiles", "element"],
                         "IE_pred": [np.nan] * 2, "IE_spread": [np.nan] * 2,
                         "IE_half_width": [np.nan] * 2, "IE_study": [np.nan] * 2,
                         "IE_similarity": [np.nan] * 2, "IE_nearest": [""] * 2})  # fmt: skip
    part.to_parquet(predicted / "part-00000.parquet")
    electrolytes = {"acetonitrile": ACETONITRILE}
    targets = {"oxidation": {"target": "IE", "conversion": "eV_absolute", "references": {}}}
    plan = ScreeningPlan(targets, electrolytes, [CATHODE, WIDE_OPEN], 4.7)
    out = {name: str(tmp_path / name) for name in ("candidates.csv", "counts.tsv", "rejected.tsv")}
    screen_library(library_parts(str(predicted)), plan, {"IE": 0.1}, str(tmp_path / "screened"),
                   out["candidates.csv"], out["counts.tsv"], out["rejected.tsv"],
                   [str(tmp_path / "oxidation_acetonitrile.png")], str(tmp_path / "s.png"))  # fmt: skip
    counts = pd.read_csv(out["counts.tsv"], sep="\t")
    assert counts[["electrolyte", "role"]].values.tolist() == [
        ["acetonitrile", "cathode"], ["acetonitrile", "any_oxidation"]]  # fmt: skip
    assert (
        (counts[["n_screened", "n_candidates", "n_unfamiliar", "n_distinct_candidates"]] == 0)
        .all()
        .all()
    )
    assert pd.read_csv(out["rejected.tsv"], sep="\t")["error"].tolist() == [
        "invalid_smiles",
        "element",
    ]


SUMMARY_METRICS = {
    "unit": "eV",
    "out_of_fold": {
        "mae": 0.034,
        "r2": 0.996,
        "mean_residual": -0.0024,
        "residual_sd": 0.06,
        "n": 1685,
    },  # fmt: skip
    "interval": {
        "conformal": {"half_width": 0.121, "coverage": 0.949},
        "gaussian": {"half_width": 0.118, "coverage": 0.94},
        "level": 0.95,
    },
    "architecture": {
        "model": 27,
        "radius": 3,
        "n_bits": 600,
        "hidden_layers": "600",
        "fingerprint": "graph",
        "descriptors": False,
    },  # fmt: skip
}


def test_the_run_summary_says_when_nothing_was_screened(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(SUMMARY_METRICS))
    text = run_summary({"IE": str(tmp_path / "metrics.json")}, None)
    assert ("- IE (grid model 27: message passing, depth 3, width 600, head 600): out-of-fold "
            "MAE 0.034 eV, R² 0.996, mean residual -0.002, residual SD 0.060 (n = 1685); "
            "95 % interval ±0.121 (conformal, coverage 0.949) / ±0.118 (gaussian, coverage "
            "0.940)") in text  # fmt: skip
    assert text.endswith("None screened: screening.oxidation_target and "
                         "screening.reduction_target are null.\n")  # fmt: skip


def test_the_run_summary_reads_the_intervals_of_an_older_run(tmp_path):
    """Runs from before final.interval_level wrote ``interval_95``, some without its level."""
    intervals = {key: value for key, value in SUMMARY_METRICS["interval"].items() if key != "level"}
    older = {key: value for key, value in SUMMARY_METRICS.items() if key != "interval"}
    (tmp_path / "metrics.json").write_text(json.dumps(older | {"interval_95": intervals}))
    text = run_summary({"IE": str(tmp_path / "metrics.json")}, None)
    assert "(n = 1685); 95 % interval ±0.121 (conformal, coverage 0.949)" in text


def written_counts(path, roles, collector_max_v=4.7, molecules=3):
    """A counts.tsv as screening writes it: acetonitrile (capped at 4.7 V by default) and a
    carbonate whose own limit is 4.0 V, the study's roles at the reduction potential."""
    electrolytes = {"acetonitrile": ACETONITRILE,
                    "carbonate": Electrolyte("carbonate", 1.0, 4.0)}  # fmt: skip
    table = potentials([4.0] * molecules, [0.1] * molecules, e_red=[3.1] * molecules,
                       e_red_half_width=[0.1] * molecules)  # fmt: skip
    counts = candidate_counts(screen(table, electrolytes, roles, collector_max_v))
    write_table(with_criteria(counts, electrolytes, roles, collector_max_v), str(path))
    return str(path)


STUDY_ROLES = [Role("cathode", "reduction", 3.0, 3.29), Role("anode", "reduction", 1.8)]


def test_the_run_summary_counts_the_candidates_of_each_library(tmp_path):
    dataset = written_counts(tmp_path / "dataset.tsv", STUDY_ROLES, molecules=1685)
    library = written_counts(tmp_path / "lib.tsv", STUDY_ROLES, molecules=5)
    selected = "model: 27\nval_mae_mean: 0.05377\nrunner_up: 26\nunit: eV\n"
    (tmp_path / "selected.yaml").write_text(selected)
    grid = "model\tval_mae_mean\tfolds\n27\t0.05377\t2\n26\t0.05701\t2\n14\t0.0774\t2\n"
    (tmp_path / "mae_table.tsv").write_text(grid)
    (tmp_path / "metrics.json").write_text(json.dumps(SUMMARY_METRICS))
    text = run_summary(
        {"EA": str(tmp_path / "metrics.json")},
        dataset,
        {"my lib": library},
        selections={"EA": (str(tmp_path / "selected.yaml"), str(tmp_path / "mae_table.tsv"))},
        collector_max_v=4.7,
    )
    assert ("; chosen among 3 grid models by its mean held-out MAE over 2 folds, 0.0538 eV "
            "(runner-up: model 26, 0.0570 eV)\n") in text  # fmt: skip
    assert ("Roles (cathode: reduction potential 3–3.29 V; anode: reduction potential ≥ 1.8 V): "
            "a candidate's estimate lies in its role's band and its whole interval inside "
            "the electrolyte's window (acetonitrile 0.44–4.7 V, capped by the current collector; "
            "carbonate 1–4 V).") in text  # fmt: skip
    in_dataset, in_library = text.split("## Candidates in library `my lib`")
    assert "| acetonitrile | cathode | 1685 | 1685 |" in " ".join(in_dataset.split())
    assert "| acetonitrile | cathode | 5 | 5 |" in " ".join(in_library.split())
    assert "band_min_v" not in text  # the roles line says it


def test_the_run_summary_says_which_roles_judge_the_whole_interval(tmp_path):
    whole = Role("cathode", "reduction", 3.0, 3.29, margin_on_band=True)
    counts = written_counts(tmp_path / "dataset.tsv", [whole, Role("any", "oxidation")], None)
    assert ("Roles (cathode: reduction potential 3–3.29 V, whole interval; any: oxidation "
            "potential anywhere in the window): a candidate's estimate (its whole interval "
            "where a role says 'whole interval') lies in its role's band and its whole "
            "interval inside the electrolyte's window (acetonitrile 0.44–6.54 V; carbonate 1–4 "
            "V).") in run_summary({}, counts)  # fmt: skip


@pytest.mark.parametrize(
    ("fingerprint", "descriptors", "expected"),
    [
        ("count", False, "grid model 2: Morgan counts, radius 1, 1024 bits, layers 1024-512"),
        (
            "count_ap",
            True,
            "grid model 2: Morgan + atom-pair counts and RDKit descriptors, "
            "radius 1, 1024 bits, layers 1024-512",
        ),  # fmt: skip
    ],
)
def test_the_selected_fingerprint_network_in_words(fingerprint, descriptors, expected):
    architecture = {"model": 2, "radius": 1, "n_bits": 1024, "hidden_layers": "1024-512",
                    "fingerprint": fingerprint, "descriptors": descriptors}  # fmt: skip
    assert architecture_text(architecture) == expected


def test_the_per_molecule_interval_without_a_calibration_set_says_what_to_change():
    metrics = {"interval_95": {"conformal": {"half_width": 0.12}, "ensemble": None}}
    check_per_molecule_interval(metrics, "conformal", "IE")
    with pytest.raises(ValueError) as error:
        check_per_molecule_interval(metrics, "ensemble", "IE")
    assert str(error.value) == (
        "screening.interval is 'ensemble' but the IE final models have no calibrated ensemble "
        "interval: final.calibration_fraction held out none of its molecules when they were "
        "trained; set screening.interval: conformal or gaussian, or raise "
        "final.calibration_fraction (which trains the models again)"
    )
