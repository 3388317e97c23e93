import pytest
from emmet.core.molecules_jcesr import MoleculesDoc

from redoxscreen.materials_project import MissingApiKey, document_to_record, download_molecules


def test_missing_key_says_how_to_set_one(monkeypatch, tmp_path):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(MissingApiKey, match="export MP_API_KEY="):
        download_molecules(str(tmp_path / "mp.json"))
    assert not (tmp_path / "mp.json").exists()


def test_documents_become_export_records():
    document = MoleculesDoc(task_id="mol-45004", smiles="c1ccccc1", charge=0, IE=9.1, EA=None)
    record = document_to_record(document)
    assert record["task_id"] == "mol-45004"
    assert record["ionization_energy"] == 9.1
    assert record["electron_affinity"] is None
    assert record["smiles"] == "c1ccccc1"
