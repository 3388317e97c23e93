"""Download the Materials Project molecules set (JCESR / Electrolyte Genome) with mp-api.

The download is written as a JSON list of records with the fields of the molecules export
(``task_id``, ``smiles``, ``charge``, ``ionization_energy``, ``electron_affinity``, ...), so
ingestion reads it exactly like an export a user saved from the website.
"""

from __future__ import annotations

import logging
import os

from redoxscreen.tables import write_json

FIELDS = ["task_id", "smiles", "charge", "IE", "EA", "formula_pretty", "pointgroup", "nelements"]
RENAMED = {"IE": "ionization_energy", "EA": "electron_affinity"}

log = logging.getLogger(__name__)


class MissingApiKey(RuntimeError):
    """No Materials Project API key in the environment."""


def api_key(variable: str = "MP_API_KEY") -> str:
    key = os.environ.get(variable, "").strip()
    if not key:
        raise MissingApiKey(
            f"the data set source is materials_project but ${variable} is not set. Get a key at "
            f"https://next-gen.materialsproject.org/api (log in, 'API key'), then run "
            f"`export {variable}=<your key>` before snakemake, or point the data set's source "
            "at a JSON or CSV export you downloaded."
        )
    return key


def document_to_record(document) -> dict:
    """One molecules document (pydantic model or dict) as an export record."""
    data = document.model_dump() if hasattr(document, "model_dump") else dict(document)
    return {RENAMED.get(name, name): data.get(name) for name in FIELDS}


def download_molecules(
    out_path: str, key_variable: str = "MP_API_KEY", chunk_size: int = 1000
) -> int:
    """Download every molecule of the ``molecules.jcesr`` endpoint into ``out_path``."""
    key = api_key(key_variable)
    from mp_api.client import MPRester  # imported late: heavy, and only needed here

    with MPRester(key) as rester:
        documents = rester.molecules.jcesr.search(
            fields=FIELDS, all_fields=False, chunk_size=chunk_size
        )
    records = [document_to_record(document) for document in documents]
    log.info("downloaded %d molecules from Materials Project molecules.jcesr", len(records))
    write_json(records, out_path)
    return len(records)
