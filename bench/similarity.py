"""Benchmark: the nearest-training-molecule search against growing training sets.

Takes the unique canonical SMILES of ../shared/data/radical_redox.csv, holds out the last
``--queries`` of them, and searches their nearest among the first 1,517 (the demo's size),
10,000 and all the others: with ``redoxscreen.similarity.TrainingNeighbours`` (a sparse
product per batch) and with RDKit's ``BulkTanimotoSimilarity`` per molecule, which it
replaced. Prints molecules per second for each and checks that both give the same values.

    .venv/bin/python bench/similarity.py
    .venv/bin/python bench/similarity.py --queries 500 --rdkit-queries 100
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs, RDLogger

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "workflow_scripts"))

from redoxscreen.similarity import TrainingNeighbours, similarity_fingerprint  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "radical_redox.csv"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000, help="molecules searched")
    parser.add_argument("--rdkit-queries", type=int, default=300,
                        help="of them, searched with RDKit's search too")  # fmt: skip
    return parser.parse_args()


def canonical_smiles(path: Path) -> list[str]:
    RDLogger.DisableLog("rdApp.*")
    molecules = (Chem.MolFromSmiles(text) for text in pd.read_csv(path)["smiles"].dropna())
    return list(dict.fromkeys(Chem.MolToSmiles(mol) for mol in molecules if mol is not None))


def rdkit_nearest(queries: list, training: list) -> list[float]:
    return [max(DataStructs.BulkTanimotoSimilarity(query, training)) for query in queries]


def main() -> None:
    args = parse_args()
    smiles = canonical_smiles(DATA)
    training_smiles, query_smiles = smiles[: -args.queries], smiles[-args.queries :]
    queries = [similarity_fingerprint(Chem.MolFromSmiles(text)) for text in query_smiles]
    print(f"{len(smiles)} unique molecules of {DATA.name}; {len(queries)} searched")
    for size in (1517, 10_000, len(training_smiles)):
        ids = [str(i) for i in range(size)]
        begun = time.perf_counter()
        training = TrainingNeighbours(ids, training_smiles[:size])
        built = time.perf_counter() - begun
        begun = time.perf_counter()
        similarity, _ = training.nearest(queries, query_smiles)
        sparse_rate = len(queries) / (time.perf_counter() - begun)
        bits = [similarity_fingerprint(Chem.MolFromSmiles(text)) for text in training_smiles[:size]]
        begun = time.perf_counter()
        expected = rdkit_nearest(queries[: args.rdkit_queries], bits)
        rdkit_rate = args.rdkit_queries / (time.perf_counter() - begun)
        same = np.array_equal(similarity[: args.rdkit_queries], expected)
        print(f"{size:>6} training molecules: built in {built:.2f} s; sparse {sparse_rate:,.0f} "
              f"mol/s, RDKit {rdkit_rate:,.0f} mol/s ({sparse_rate / rdkit_rate:.1f}x); "
              f"same similarities: {same}; median {np.median(similarity):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
