import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

from redoxscreen.features import FingerprintSpec, fingerprint_smiles, read_store, write_store

from molecule_fixtures import labelled_molecules


@pytest.fixture(scope="module")
def smiles():
    return labelled_molecules()["smiles"].tolist()[:50]


def test_bits_are_counts_clipped_to_one(smiles):
    counts = fingerprint_smiles(smiles, FingerprintSpec(2, 1024, "count"))
    bits = fingerprint_smiles(smiles, FingerprintSpec(2, 1024, "bit"))
    assert counts.dtype == bits.dtype == np.uint8
    assert np.array_equal(bits, (counts > 0).astype(np.uint8))
    assert counts.max() > 1  # repeated environments are counted


def test_radius_and_length_change_the_fingerprint(smiles):
    r1 = fingerprint_smiles(smiles, FingerprintSpec(1, 2048))
    r3 = fingerprint_smiles(smiles, FingerprintSpec(3, 2048))
    assert r1.shape == (50, 2048)
    assert r3.sum() > r1.sum()


def test_parallel_equals_serial(smiles):
    spec = FingerprintSpec(2, 2048, "count")
    serial = fingerprint_smiles(smiles, spec, processes=1)
    parallel = fingerprint_smiles(smiles, spec, processes=2, chunk=7)
    assert np.array_equal(serial, parallel)


def test_atom_pair_counts_follow_the_morgan_counts(smiles):
    spec = FingerprintSpec(2, 1024, "count_ap")
    both = fingerprint_smiles(smiles, spec)
    assert both.shape == (50, 2048) and spec.width == 2048
    assert np.array_equal(both[:, :1024], fingerprint_smiles(smiles, FingerprintSpec(2, 1024)))
    pairs = rdFingerprintGenerator.GetAtomPairGenerator(fpSize=1024)
    expected = pairs.GetCountFingerprintAsNumPy(Chem.MolFromSmiles(smiles[0]))
    assert np.array_equal(both[0, 1024:], np.minimum(expected, 255))


@pytest.mark.parametrize("kind", ["bit", "count", "count_ap"])
def test_store_round_trip_keeps_ids_aligned(tmp_path, smiles, kind):
    spec = FingerprintSpec(1, 1024, kind)
    matrix = fingerprint_smiles(smiles, spec)
    ids = [f"m{i}" for i in range(len(smiles))]
    write_store(str(tmp_path / "store.npz"), ids, matrix, spec)
    store = read_store(str(tmp_path / "store.npz"))
    assert store.spec == spec
    assert np.array_equal(store.matrix, matrix)
    assert np.array_equal(store.rows_for(["m3", "m0"]), matrix[[3, 0]])
    with pytest.raises(KeyError, match="not in the fingerprint store"):
        store.rows_for(["nope"])
    if kind == "bit":
        assert (tmp_path / "store.npz").stat().st_size < matrix.nbytes / 4  # bit-packed


def test_invalid_spec_is_refused():
    with pytest.raises(ValueError, match="kind"):
        FingerprintSpec(2, 1024, "float")
    with pytest.raises(ValueError, match="multiple of 8"):
        FingerprintSpec(2, 1001)
