"""RDKit descriptors as a second feature block: values, failures and the store."""

import logging

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from redoxscreen import descriptors


def test_rows_are_signed_logs_of_rdkits_values():
    mol = Chem.MolFromSmiles("CCOc1ccccc1C(=O)[O-]")
    block = descriptors.describe_mols([mol])
    raw = np.array([function(mol) for function in descriptors.FUNCTIONS], dtype=float)
    assert block.matrix.shape == (1, len(descriptors.NAMES)) == (1, len(Descriptors.descList))
    expected = np.sign(raw) * np.log1p(np.abs(raw))
    np.testing.assert_allclose(block.matrix[0], expected, rtol=1e-6)
    assert not block.failures


def test_values_rdkit_cannot_compute_are_zero_counted_and_logged(caplog):
    # Gasteiger charges have no parameters for selenium: NaN partial charges and BCUT2D
    block = descriptors.describe_smiles(["CC", "C[Se]C"])
    column = descriptors.NAMES.index("MaxPartialCharge")
    assert block.matrix[1, column] == 0 and block.matrix[0, column] != 0
    assert block.failures["MaxPartialCharge"] == 1 and block.failures["BCUT2D_MWHI"] == 1
    assert np.isfinite(block.matrix).all()
    with caplog.at_level(logging.WARNING):
        block.log_failures("test.parquet")
    assert "test.parquet: descriptor MaxPartialCharge not computable" in caplog.text


def test_parallel_chunks_equal_one_process():
    smiles = ["CCO", "c1ccccc1O", "C[Se]C", "CC(=O)N", "O=C1C=CC(=O)C=C1"] * 3
    one = descriptors.describe_smiles(smiles)
    parallel = descriptors.describe_smiles(smiles, processes=2, chunk=4)
    np.testing.assert_array_equal(one.matrix, parallel.matrix)
    assert one.failures == parallel.failures


def test_store_round_trip_and_unknown_ids(tmp_path):
    block = descriptors.describe_smiles(["CCO", "CCN"])
    path = str(tmp_path / "d.npz")
    descriptors.write_store(path, ["a", "b"], block.matrix)
    store = descriptors.read_store(path)
    np.testing.assert_array_equal(store.rows_for(["b", "a"]), block.matrix[[1, 0]])
    with pytest.raises(KeyError, match="1 ids are not in the descriptor store"):
        store.rows_for(["c"])


def test_a_store_of_other_descriptors_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, ids=np.array(["a"]), data=np.zeros((1, 2), np.float32),
             names=np.array(["x", "y"]))  # fmt: skip
    with pytest.raises(ValueError, match="other descriptors"):
        descriptors.read_store(str(path))


def test_an_unparsable_smiles_is_named():
    with pytest.raises(ValueError, match="cannot parse SMILES 'C1CC'"):
        descriptors.describe_smiles(["CCO", "C1CC"])
