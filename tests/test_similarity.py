"""The nearest training molecule: exact molecules first, then the highest ECFP4 Tanimoto."""

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import AllChem

from redoxscreen import similarity as similarity_module
from redoxscreen.similarity import (
    TrainingNeighbours,
    similarity_fingerprint,
    write_training_molecules,
)

from molecule_fixtures import labelled_molecules

# 2,6- and 2,7-dihydroxyanthraquinone: positional isomers with the same ECFP4 bits
ISOMERS = ["O=C1c2ccc(O)cc2C(=O)c2cc(O)ccc21", "O=C1c2ccc(O)cc2C(=O)c2ccc(O)cc21"]


def nearest_of(training: TrainingNeighbours, smiles: list[str]):
    canonical = [Chem.MolToSmiles(Chem.MolFromSmiles(text)) for text in smiles]
    bits = [similarity_fingerprint(Chem.MolFromSmiles(text)) for text in canonical]
    return training.nearest(bits, canonical)


def test_a_training_molecule_is_its_own_nearest_even_beside_an_isomer_of_the_same_bits():
    first, second = (similarity_fingerprint(Chem.MolFromSmiles(text)) for text in ISOMERS)
    assert DataStructs.TanimotoSimilarity(first, second) == 1.0
    canonical = [Chem.MolToSmiles(Chem.MolFromSmiles(text)) for text in ISOMERS]
    training = TrainingNeighbours(["aq26", "aq27", "phenol"], [*canonical, "Oc1ccccc1"])
    similarity, nearest = nearest_of(
        training, [*ISOMERS, "c1ccccc1O", "O=C1c2ccccc2C(=O)c2ccccc21"]
    )
    assert nearest.tolist()[:3] == ["aq26", "aq27", "phenol"]  # spelt otherwise: still itself
    assert similarity.tolist()[:3] == [1.0, 1.0, 1.0]
    # anthraquinone is in no training row: its nearest is the first of the isomers it is like
    query = AllChem.GetMorganFingerprintAsBitVect(
        Chem.MolFromSmiles("O=C1c2ccccc2C(=O)c2ccccc21"), 2, nBits=2048
    )
    reference = [AllChem.GetMorganFingerprintAsBitVect(Chem.MolFromSmiles(text), 2, nBits=2048)
                 for text in [*canonical, "Oc1ccccc1"]]  # fmt: skip
    scores = DataStructs.BulkTanimotoSimilarity(query, reference)
    assert nearest[3] == "aq26" and similarity[3] == max(scores)
    assert max(scores) < 1.0


def test_training_molecules_are_recorded_in_the_given_order_and_must_exist(tmp_path):
    molecules = tmp_path / "molecules.parquet"
    pd.DataFrame({"id": ["a", "b", "c"], "smiles": ["CCO", "c1ccccc1", "CC"]}).to_parquet(molecules)
    table = write_training_molecules(str(molecules), ["c", "a"], str(tmp_path / "trained.parquet"))
    assert table.to_dict("list") == {"id": ["c", "a"], "smiles": ["CC", "CCO"]}
    assert pd.read_parquet(tmp_path / "trained.parquet").equals(table)
    with pytest.raises(ValueError, match=r"1 trained molecules are not in .*: \['x'\]"):
        write_training_molecules(str(molecules), ["a", "x"], str(tmp_path / "other.parquet"))
    with pytest.raises(ValueError, match="training molecule b: SMILES 'C1CC' does not parse"):
        TrainingNeighbours(["a", "b"], ["CCO", "C1CC"])
    similarity, nearest = nearest_of(TrainingNeighbours(["a"], ["CCO"]), [])
    assert len(similarity) == len(nearest) == 0 and similarity.dtype == np.float64


def test_the_sparse_search_gives_rdkits_similarities_and_first_nearest_in_any_batches(
    monkeypatch,
):
    smiles = labelled_molecules(every=3)["smiles"].tolist()
    trained, new = smiles[::2], smiles[1::2]
    training = TrainingNeighbours([f"t{i}" for i in range(len(trained))], trained)
    reference = [similarity_fingerprint(Chem.MolFromSmiles(text)) for text in trained]
    expected = []
    for text in new:
        scores = DataStructs.BulkTanimotoSimilarity(
            similarity_fingerprint(Chem.MolFromSmiles(text)), reference
        )
        first = scores.index(max(scores))  # the first of the highest
        expected.append((max(scores), f"t{first}"))
    assert len({nearest for _, nearest in expected}) > 5 and min(expected)[0] < 0.5
    for scores_per_batch in (1, 3 * len(trained) + 1, 10**9):  # one, three, all per batch
        monkeypatch.setattr(similarity_module, "SCORES_PER_BATCH", scores_per_batch)
        similarity, nearest = nearest_of(training, new)
        assert list(zip(similarity.tolist(), nearest.tolist(), strict=True)) == expected
