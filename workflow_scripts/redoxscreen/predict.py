"""Predicting new molecules with a target's trained fold models, from a list or a SMILES file.

A target's model directory (``results/final/<target>/``) holds one network per cross-validation
fold: fingerprint networks, or message-passing networks that read molecular graphs (built from
the canonical SMILES, as in training). ``Ensemble`` loads them all and reports, per molecule,
the mean over the fold models (``pred``), their spread (SD across fold models, ddof=1), the
per-molecule half-width calibrated on the final stage's calibration set (``half_width``:
scale x spread, see ``uncertainty``; NaN without one) and the prediction of the single fold
model the study kept (``study``, the fold named in ``metrics.json``), and the mean as a
potential vs Li/Li+ (``v_li``), converted with the conversion and offsets that ``metrics.json``
records. The workflow predicts libraries from the models' record (``models.json``) instead,
without ``half_width`` and ``v_li``, which its screening computes.

Fingerprint networks give exactly the numbers of ``training.predict``: the fold models run
unchanged (same graph, same bfloat16 kernels) inside one ``tf.function`` per target, and rows
never interact, so the chunk size cannot change a result. Message-passing networks see
molecules in batches of ``message_passing.PREDICT_BATCH``, whose make-up follows the chunks;
molecules never interact there either, but a result may differ in its last float32 bits.
Molecules are standardized as ``chemistry.standardize`` does (same canonical SMILES, same
rejection reasons) except that no InChIKey is computed, which would cost twice as much as
everything else together and is not needed to predict.

A screen streams the SMILES file in chunks and writes one Parquet part per chunk, so memory is
bounded by the chunk size, never by the library.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from rdkit import Chem
from tqdm import tqdm

from redoxscreen import descriptors, graphs
from redoxscreen.chemistry import (
    CHARGED,
    INVALID_SMILES,
    MoleculeRejected,
    StandardizeOptions,
    parse_smiles,
    standardize,
)
from redoxscreen.features import COUNT_CEILING, FingerprintSpec, generators
from redoxscreen.potentials import (
    CONVERSION_READS,
    CONVERSIONS,
    to_volts_vs_li,
)
from redoxscreen.screening import (
    LIBRARY_ADDED_COLUMNS,
    SCREEN_COLUMNS,
    level_text,
    recorded_intervals,
)
from redoxscreen.similarity import (
    TrainingNeighbours,
    read_training_molecules,
    similarity_fingerprint,
)
from redoxscreen.tables import (
    CARRIED,
    NEIGHBOUR_COLUMNS,
    PART_NAME,
    SmilesColumns,
    SmilesLine,
    atomic_path,
    carried_column_names,
    iter_smiles_file,
    molecule_count_bound,
    part_path,
    part_paths,
    smiles_file_extra_columns,
    write_table,
)
from redoxscreen.uncertainty import ensemble_half_widths

log = logging.getLogger(__name__)

FOLD_DIR = re.compile(r"^fold(\d+)$")
BATCH_ROWS = 4096  # rows per call of the fold models; results do not depend on it
PREDICTION_COLUMNS = ("pred", "spread", "half_width", "study", "v_li")
# read off metrics.json's intervals and offsets, which the run's settings change, not the models
METRICS_COLUMNS = ("half_width", "v_li")
METRICS = "metrics.json"
ID_COLUMNS = ["line", "id", "input_smiles", "smiles", "error"]
RDKIT_ERROR = "rdkit_error"  # reason for a molecule RDKit raised on outside standardize's checks


# --- standardizing and featurizing ---------------------------------------------------------


@cache
def disallowed_atom_query(allowed_elements: tuple[str, ...]) -> Chem.Mol:
    """A one-atom SMARTS query matching any atom outside ``allowed_elements``."""
    table = Chem.GetPeriodicTable()
    numbers = sorted({table.GetAtomicNumber(symbol) for symbol in allowed_elements})
    if not numbers:
        return Chem.MolFromSmarts("*")
    return Chem.MolFromSmarts("[" + ";".join(f"!#{number}" for number in numbers) + "]")


def read_molecule(text: str, options: StandardizeOptions) -> tuple[Chem.Mol | None, str, str]:
    """``prediction_molecule``'s molecule and canonical SMILES and an empty error, or no
    molecule, no SMILES and the reason (``reason: detail``)."""
    try:
        return (*prediction_molecule(text, options), "")
    except MoleculeRejected as rejection:
        return None, "", f"{rejection.reason}: {rejection.detail}{advice(rejection, text, options)}"
    except (RuntimeError, ValueError) as error:  # RDKit failing on an odd molecule
        return None, "", f"{RDKIT_ERROR}: RDKit failed on {text!r}: {error}"


def advice(rejection: MoleculeRejected, text: str, options: StandardizeOptions) -> str:
    """For a charged molecule that a proton added or removed would neutralize, the option."""
    if rejection.reason != CHARGED or options.neutralize:
        return ""
    try:
        standardize(text, replace(options, neutralize=True))
    except MoleculeRejected:
        return ""
    return "; predict.neutralize (--neutralize) predicts its neutral form"


def prediction_molecule(smiles: str, options: StandardizeOptions) -> tuple[Chem.Mol, str]:
    """The molecule to fingerprint and the canonical SMILES that ``standardize`` would give.

    Rejections are ``standardize``'s own: whatever the quick checks flag (several fragments,
    a net charge, an element outside the allowed ones) is handed to ``standardize``, which
    raises ``MoleculeRejected`` with its reason and detail. No InChIKey is computed.
    """
    mol = parse_smiles(smiles)
    canonical = Chem.MolToSmiles(mol)
    flagged = (
        "." in canonical
        or ((options.neutral_only or options.neutralize) and Chem.GetFormalCharge(mol) != 0)
        or mol.HasSubstructMatch(disallowed_atom_query(tuple(options.allowed_elements)))
    )
    if flagged:  # rare: let standardize reject it, pick the largest fragment or neutralize it
        canonical = standardize(smiles, options).smiles
    elif mol.GetNumAtoms() == mol.GetNumHeavyAtoms():
        return mol, canonical
    # what training fingerprints: the molecule of the canonical SMILES (explicit H removed)
    mol = Chem.MolFromSmiles(canonical)
    if mol is None:
        raise MoleculeRejected(
            INVALID_SMILES, f"the canonical SMILES {canonical!r} of {smiles!r} does not parse"
        )
    return mol, canonical


@dataclass
class SparseFingerprints:
    """Fingerprints of a chunk as compressed rows (CSR); ``rows(start, stop)`` gives dense ones.

    A chunk's dense matrix would be ``n x n_bits`` bytes (100 MB for 50,000 molecules at 2048
    bits); only ``BATCH_ROWS`` rows of it exist at a time.
    """

    spec: FingerprintSpec
    indptr: np.ndarray  # int64, n + 1
    bits: np.ndarray  # int32
    values: np.ndarray  # uint8

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` as a dense ``uint8`` matrix, as ``features.fingerprint_mols``."""
        stop = min(stop, len(self))
        dense = np.zeros((max(stop - start, 0), self.spec.width), dtype=np.uint8)
        first, last = self.indptr[start], self.indptr[stop]
        counts = np.diff(self.indptr[start : stop + 1])
        row = np.repeat(np.arange(stop - start), counts)
        dense[row, self.bits[first:last]] = self.values[first:last]
        return dense

    def dense(self) -> np.ndarray:
        return self.rows(0, len(self))


class FingerprintBuilder:
    """Collects the fingerprints of ``features.fingerprint_mols`` (bits, or counts clipped at 255)
    one molecule at a time, as sparse rows, so no chunk of parsed molecules is ever held."""

    def __init__(self, spec: FingerprintSpec):
        self.spec = spec
        self.counted = spec.kind != "bit"
        self.blocks = [(block * spec.n_bits, make) for block, make in enumerate(generators(spec))]
        self.lengths = array("q")
        self.bits = array("i")
        self.values = array("I")

    def add(self, mol: Chem.Mol) -> None:
        length = 0
        for offset, make in self.blocks:
            if self.counted:
                counts = make.GetCountFingerprint(mol).GetNonzeroElements()
                self.bits.extend([offset + bit for bit in counts] if offset else counts)
                self.values.extend(counts.values())
                length += len(counts)
            else:
                on = make.GetFingerprint(mol).GetOnBits()
                self.bits.extend(on)
                length += len(on)
        self.lengths.append(length)

    def finish(self) -> SparseFingerprints:
        indptr = np.zeros(len(self.lengths) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(self.lengths, dtype=np.int64), out=indptr[1:])
        if self.counted:
            values = np.minimum(np.frombuffer(self.values, dtype=np.uint32), COUNT_CEILING)
        else:
            values = np.ones(len(self.bits))
        bits = np.frombuffer(self.bits, dtype=np.int32).copy()
        return SparseFingerprints(self.spec, indptr, bits, values.astype(np.uint8))


def sparse_fingerprints(mols: Iterable[Chem.Mol], spec: FingerprintSpec) -> SparseFingerprints:
    """``features.fingerprint_mols`` of parsed molecules, as sparse rows."""
    builder = FingerprintBuilder(spec)
    for mol in mols:
        builder.add(mol)
    return builder.finish()


@dataclass(frozen=True)
class FeatureNeeds:
    """What the ensembles read: fingerprints (each once), descriptors, molecular graphs."""

    specs: tuple[FingerprintSpec, ...] = ()
    describe: bool = False
    graphs: bool = False
    # per column prefix, the training molecules to find each molecule's nearest among
    neighbours: tuple[tuple[str, TrainingNeighbours], ...] = ()


@dataclass
class PreparedChunk:
    """One chunk of input lines, standardized and featurized: the features hold each distinct
    molecule that parsed once, in the order of its first row (``feature_row``)."""

    line: np.ndarray
    ids: list[str]
    input_smiles: list[str]
    smiles: list[str]
    errors: list[str]
    extra: list[tuple[str, ...]]  # per row, the input table's other cells
    # per row, its molecule's row in the features (-1 where it did not parse): the features
    # hold each distinct molecule (canonical SMILES) of the chunk once
    feature_row: np.ndarray
    fingerprints: dict[FingerprintSpec, SparseFingerprints]
    descriptors: np.ndarray | None = None  # float32 rows of distinct molecules, when asked for
    graphs: list[graphs.MoleculeGraph] | None = None  # of distinct molecules, when asked for
    # per column prefix: each distinct molecule's nearest training molecule (similarity, id)
    neighbours: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def parsed(self) -> np.ndarray:
        """Bool per row: it parsed."""
        return self.feature_row >= 0

    @property
    def repeats(self) -> int:
        """Parsed rows whose molecule an earlier row of the chunk lists."""
        distinct = int(self.feature_row.max()) + 1 if len(self) else 0
        return int(self.parsed.sum()) - distinct


class LineBatch(NamedTuple):
    """Input lines column by column: line numbers, ids, SMILES, each row's other input cells
    and why a row could not be read (``""`` where it could)."""

    numbers: list[int]
    ids: list[str]
    smiles: list[str]
    extra: list[tuple[str, ...]]
    problems: list[str]

    @classmethod
    def of(cls, lines: Sequence[SmilesLine]) -> LineBatch:
        return cls(
            [item.line for item in lines],
            [item.id for item in lines],
            [item.smiles for item in lines],
            [item.extra for item in lines],
            [item.problem for item in lines],
        )


def prepare_chunk(
    lines: LineBatch, needs: FeatureNeeds, options: StandardizeOptions
) -> PreparedChunk:
    """Standardize every SMILES (a rejection or a line's problem becomes the row's error) and
    featurize the rest as ``needs`` says: fingerprints, RDKit descriptors, molecular graphs,
    nearest training molecules; a molecule that the chunk lists again (the same canonical
    SMILES) is featurized once."""
    numbers, ids, input_smiles, extra, problems = lines
    clock = time.perf_counter
    builders = [FingerprintBuilder(spec) for spec in needs.specs]
    described, failures, molecule_graphs, similarity_bits = [], Counter(), [], []
    canonical, errors = [], []
    feature_row = np.full(len(input_smiles), -1, dtype=np.int64)
    featurized: dict[str, int] = {}  # canonical SMILES -> its row in the features
    featurizing = 0.0
    started = clock()
    for row, (text, problem) in enumerate(zip(input_smiles, problems, strict=True)):
        mol, smiles, error = (None, "", problem) if problem else read_molecule(text, options)
        canonical.append(smiles)
        errors.append(error)
        if error:
            continue
        if smiles in featurized:
            feature_row[row] = featurized[smiles]
            continue
        feature_row[row] = featurized[smiles] = len(featurized)
        begun = clock()
        for builder in builders:
            builder.add(mol)
        if needs.describe:
            described.append(descriptors.descriptor_row(mol, failures))
        if needs.graphs:  # from the canonical SMILES, as training: chiral tags follow atom order
            molecule_graphs.append(graphs.molecule_graph(Chem.MolFromSmiles(smiles)))
        if needs.neighbours:
            similarity_bits.append(similarity_fingerprint(mol))
        featurizing += clock() - begun
    if failures:
        descriptors.log_failures(failures, f"lines {numbers[0]}-{numbers[-1]}")
    begun = clock()
    fingerprints = {builder.spec: builder.finish() for builder in builders}
    distinct = list(featurized)  # canonical SMILES, in the order of the features
    neighbours, searched = {}, {}  # searched: per training set (object), its result
    for name, training in needs.neighbours:
        if id(training) not in searched:
            searched[id(training)] = training.nearest(similarity_bits, distinct)
        neighbours[name] = searched[id(training)]
    featurizing += clock() - begun
    seconds = {"parse": clock() - started - featurizing, "featurize": featurizing}
    return PreparedChunk(
        line=np.asarray(numbers, dtype=np.int64),
        ids=list(ids),
        input_smiles=list(input_smiles),
        smiles=canonical,
        errors=errors,
        extra=list(extra),
        feature_row=feature_row,
        fingerprints=fingerprints,
        descriptors=descriptor_rows(described) if needs.describe else None,
        graphs=molecule_graphs if needs.graphs else None,
        neighbours=neighbours,
        seconds=seconds,
    )


def descriptor_rows(rows: list[np.ndarray]) -> np.ndarray:
    if not rows:
        return np.zeros((0, len(descriptors.NAMES)), dtype=np.float32)
    return np.asarray(rows, dtype=np.float32)


# --- the ensemble of a target's fold models ------------------------------------------------


@dataclass
class FoldModel:
    fold: int
    model: object
    scaler: object  # training.LabelScaler
    recipe: dict


def missing_models_error(model_dir: Path, problem: str) -> FileNotFoundError:
    return FileNotFoundError(f"{problem}; {missing_models_advice(model_dir)}")


def missing_models_advice(model_dir: Path) -> str:
    """What to name instead of a directory without a target's fold models, or how to make them."""
    targets = sorted({path.parent.parent for path in model_dir.glob("*/fold*/model.keras")})
    if targets:
        return ("it holds the fold models of the targets "
                f"{', '.join(target.name for target in targets)}: name each target's "
                f"directory ({', '.join(map(str, targets))})")  # fmt: skip
    if model_dir.parent.name == "final":
        return f"train the target's final models first: `snakemake {model_dir / 'metrics.json'}`"
    return "a target's final models are in fold<N>/model.keras of results/final/<target>"


class Ensemble:
    """The fold models of one target, predicting together.

    ``folds`` are the fold numbers in order; ``study_fold`` the fold whose model the study kept;
    ``metrics`` the target's ``metrics.json`` (``unit``, ``interval``, ...), or the file
    ``record`` names (``models.json``: what the models are, without their evaluation), or None;
    ``options`` the ``ingest`` options that the training molecules passed, as it records them
    (None where it does not).
    """

    def __init__(
        self,
        model_dir: Path,
        members: list[FoldModel],
        metrics: dict | None,
        record: str = METRICS,
    ):
        self.model_dir = model_dir
        self.members = members
        self.metrics = metrics
        self.target = members[0].recipe["target"]
        self.spec = FingerprintSpec(**members[0].recipe["fingerprint"])
        self.descriptors = uses_descriptors(members[0].recipe)
        self.folds = [member.fold for member in members]
        recorded = (metrics or {}).get("ingest")
        self.options = StandardizeOptions.from_config(recorded) if recorded else None
        if metrics is not None and recorded is None:
            log.warning(
                "%s/%s records no ingest options (written before they were recorded): "
                "molecules are checked with the defaults",
                model_dir,
                record,
            )
        if metrics is not None:
            self.study_fold = int(metrics["study_choice"]["fold"])
            if self.study_fold not in self.folds:
                raise ValueError(
                    f"{model_dir}/{record} names fold {self.study_fold} as the study's "
                    f"choice, but only folds {self.folds} have models"
                )
        else:
            self.study_fold = 0 if 0 in self.folds else self.folds[0]
            log.warning(
                "%s: no %s (copy it with the fold<N>/ folders), so %s_half_width is "
                "empty (no calibrated interval), molecules are checked with ingestion's "
                "defaults, not the training set's options, and the study's chosen fold is "
                "unknown: the 'study' column uses fold %d",
                model_dir,
                record,
                self.target,
                self.study_fold,
            )
        # id and canonical SMILES of the molecules the models trained on (see ``load``)
        self.training_molecules: pd.DataFrame | None = None
        self._function = None
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: str | os.PathLike, record: str = METRICS) -> Ensemble:
        """The ``fold<N>/`` models of a target's directory (see read_recipes) and its metrics,
        or with ``record`` another file of them (``final_record.MODELS_RECORD``)."""
        from redoxscreen.training import load_fitted

        model_dir = Path(model_dir)
        metrics = read_metrics(model_dir, record)
        members = [
            FoldModel(fold, *load_fitted(model_dir / f"fold{fold}"))
            for fold in read_recipes(model_dir, metrics, record)  # checks they fit together
        ]
        ensemble = cls(model_dir, members, metrics, record)
        ensemble.training_molecules = read_training_molecules(model_dir)
        log.info("%s: %d fold models of %s, %s, study fold %d", model_dir, len(members),
                 ensemble.target, ensemble.spec.name, ensemble.study_fold)  # fmt: skip
        return ensemble

    @cached_property
    def neighbours(self) -> TrainingNeighbours | None:
        """The search for a new molecule's nearest training molecule: built on first use (a
        prediction with the search), then kept for every later call."""
        table = self.training_molecules
        return None if table is None else TrainingNeighbours.from_table(table)

    @property
    def n_descriptors(self) -> int:
        """Descriptor columns after the fingerprint in the models' input."""
        return len(descriptors.NAMES) if self.descriptors else 0

    @property
    def unit(self) -> str | None:
        return self.metrics.get("unit") if self.metrics else None

    def units_note(self) -> str:
        """What the target's prediction columns are in, and how ``<T>_v_li`` was converted to
        potentials vs Li/Li+, as metrics.json records them."""
        level = recorded_intervals(self.metrics or {}).get("level")
        interval = f" (of a {level_text(level)} interval)" if level else ""
        columns = f"{self.target}_pred, _spread, _half_width{interval} and _study"
        if self.unit is None:
            return f"{columns}: unit unknown ({self.model_dir} has no metrics.json)"
        if self.conversion is None:
            return f"{columns} in {self.unit} (metrics.json records no conversion)"
        predicted = f"{self.target}_pred"
        described = f"{columns} in {self.unit} ({CONVERSION_READS[self.conversion]})"
        formula = volts_formula(predicted, self.conversion, self.references)
        volts = f"{described}; {self.target}_v_li = {formula} in V vs Li/Li+"
        if formula == predicted:  # no offset
            return volts
        if self.references is None:  # written before metrics.json recorded the offsets
            return f"{volts} (the default potentials: metrics.json records none)"
        return f"{volts} (the offsets of the run that trained them)"

    @property
    def conversion(self) -> str | None:
        """How the labels become potentials vs Li/Li+; None where metrics.json records no
        conversion that this version knows."""
        conversion = (self.metrics or {}).get("conversion")
        return conversion if conversion in CONVERSIONS else None

    @property
    def references(self) -> dict | None:
        """The reference offsets of the run that trained the models (its ``potentials``)."""
        return (self.metrics or {}).get("potentials")

    def in_volts_vs_li(self, values: np.ndarray) -> np.ndarray:
        """Values in the label unit as V vs Li/Li+; NaN without a known conversion."""
        if self.conversion is None:
            return np.full(len(values), np.nan)
        return to_volts_vs_li(values, self.conversion, self.references).copy()  # never a view

    @property
    def interval_half_width(self) -> dict[str, float]:
        """Global interval half-widths from out-of-fold residuals: ``gaussian`` and
        ``conformal``."""
        if not self.metrics:
            return {}
        intervals = recorded_intervals(self.metrics)
        return {
            name: float(entry["half_width"])
            for name, entry in intervals.items()
            if isinstance(entry, dict) and "half_width" in entry
        }

    def _scaled_function(self):
        """One ``tf.function`` running every fold model: uint8 fingerprint rows (and float32
        descriptor rows), or a batch of molecular graphs -> (models x rows) float32."""
        with self._lock:
            if self._function is None:
                os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
                import tensorflow as tf

                models = [member.model for member in self.members]
                if self.spec.learned:
                    from redoxscreen.message_passing import forward_function

                    self._function = forward_function(models)
                    return self._function
                signature = [
                    tf.TensorSpec([None, self.spec.width], tf.uint8),
                    tf.TensorSpec([None, self.n_descriptors], tf.float32),
                ]

                @tf.function(input_signature=signature)
                def scaled(x, described):
                    x = tf.concat([tf.cast(x, tf.float32), described], axis=1)
                    return tf.stack(
                        [tf.reshape(model(x, training=False), [-1]) for model in models]
                    )

                self._function = scaled
            return self._function

    def predict_members(
        self, x: np.ndarray | SparseFingerprints | list, described: np.ndarray | None = None
    ) -> np.ndarray:
        """Every fold model's prediction in label units: an array of ``len(folds) x rows``.

        ``x``: fingerprint rows, or the molecules' graphs (``graphs.molecule_graph``) for
        message-passing models. ``described``: the molecules' descriptor rows, which models
        trained with ``training.descriptors`` need (``descriptors.describe_mols``).
        """
        if self.spec.learned:
            return self.in_label_units(self.predict_graphs_scaled(x))
        n = len(x)
        if self.descriptors and (described is None or len(described) != n):
            raise ValueError(f"the {self.target} models were trained with descriptors; "
                             "pass the descriptor rows of the same molecules")  # fmt: skip
        if not self.descriptors:
            described = np.zeros((n, self.n_descriptors), dtype=np.float32)
        scaled = self._scaled_function()
        out = np.empty((len(self.members), n), dtype=np.float32)
        for start in range(0, n, BATCH_ROWS):
            stop = min(start + BATCH_ROWS, n)
            rows = x.rows(start, stop) if isinstance(x, SparseFingerprints) else x[start:stop]
            out[:, start:stop] = scaled(
                np.ascontiguousarray(rows, dtype=np.uint8),
                np.ascontiguousarray(described[start:stop], dtype=np.float32),
            ).numpy()
        return self.in_label_units(out)

    def predict_graphs_scaled(self, molecule_graphs: list) -> np.ndarray:
        if not isinstance(molecule_graphs, list):
            raise TypeError(f"the {self.target} models are message-passing networks; pass "
                            "molecular graphs (graphs.molecule_graph), not fingerprints")  # fmt: skip
        from redoxscreen.message_passing import predict_scaled

        return predict_scaled(self._scaled_function(), molecule_graphs, len(self.members))

    def in_label_units(self, scaled: np.ndarray) -> np.ndarray:
        values = scaled.astype(float)
        for index, member in enumerate(self.members):
            values[index] = member.scaler.inverse(values[index])
        return values

    @property
    def per_molecule_interval(self) -> dict | None:
        """The calibrated ensemble interval (``scale``, ``spread_floor``, ...) or None."""
        return recorded_intervals(self.metrics or {}).get("ensemble")

    def summarize(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """``pred`` (mean), ``spread`` (SD across fold models, ddof=1), ``half_width``,
        ``study``, and ``v_li``: the mean as a potential vs Li/Li+."""
        if len(self.members) > 1:
            spread = values.std(axis=0, ddof=1)
        else:
            spread = np.full(values.shape[1], np.nan)
        interval = self.per_molecule_interval
        if interval:
            half_width = ensemble_half_widths(spread, interval["scale"], interval["spread_floor"])
        else:
            half_width = np.full(values.shape[1], np.nan)
        mean = values.mean(axis=0)
        return {
            "pred": mean,
            "spread": spread,
            "half_width": half_width,
            "study": values[self.folds.index(self.study_fold)].copy(),
            "v_li": self.in_volts_vs_li(mean),
        }

    def predict_features(
        self, x: np.ndarray | SparseFingerprints | list, described: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        if isinstance(x, SparseFingerprints) and x.spec != self.spec:
            raise ValueError(f"fingerprints are {x.spec.name}, the {self.target} models need "
                             f"{self.spec.name}")  # fmt: skip
        return self.summarize(self.predict_members(x, described))

    def predict_mols(self, mols: Sequence[Chem.Mol]) -> dict[str, np.ndarray]:
        """``pred``, ``spread`` and ``study`` for parsed molecules."""
        if self.spec.learned:
            return self.predict_features([graphs.canonical_graph(mol) for mol in mols])
        described = None
        if self.descriptors:
            block = descriptors.describe_mols(mols)
            block.log_failures(f"{self.target} prediction")
            described = block.matrix
        return self.predict_features(sparse_fingerprints(mols, self.spec), described)


def volts_formula(column: str, conversion: str, references: Mapping | None) -> str:
    """``column`` as a potential vs Li/Li+ (``IE_pred - 1.40``), read off the conversion,
    which is affine."""
    offset = float(to_volts_vs_li(0.0, conversion, references))
    scale = float(to_volts_vs_li(1.0, conversion, references)) - offset
    term = column if math.isclose(scale, 1) else f"{scale:.5g} x {column}"  # as potentials
    if math.isclose(offset, 0, abs_tol=1e-12):
        return term
    written = f"{abs(offset):.2f}" if round(offset, 2) == offset else f"{abs(offset):.10g}"
    return f"{term} {'+' if offset > 0 else '-'} {written}"


def uses_descriptors(recipe: dict) -> bool:
    """Whether a fold model was trained with RDKit descriptors after its fingerprint."""
    return bool(recipe.get("training", {}).get("descriptors", False))


def configure_threads(threads: int) -> bool:
    """TensorFlow's intra-op threads; False (and a warning) when TensorFlow already started.

    On a small machine one thread screens fastest (measured on 2 cores with
    ``bench/screen_library.py``): another core is standardizing the next chunk meanwhile.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from redoxscreen.training import set_threads

    if not set_threads(threads):
        return False
    log.info("TensorFlow predicts with %s intra-op thread(s)", threads or "all the machine's")
    return True


def read_metrics(model_dir: str | os.PathLike, name: str = METRICS) -> dict | None:
    """A target directory's ``metrics.json`` (or another file ``name`` of it), or None where it
    has none."""
    metrics_path = Path(model_dir) / name
    return json.loads(metrics_path.read_text()) if metrics_path.is_file() else None


def read_recipes(
    model_dir: str | os.PathLike, metrics: dict | None, record: str = METRICS
) -> dict[int, dict]:
    """``{fold: recipe}`` of a target's fold models, in fold order, checked to fit together.

    Cheap (no TensorFlow): a missing directory or one without fold models raises
    ``FileNotFoundError``, fold models with different fingerprints ``ValueError``. Where the
    directory's ``metrics`` (read_metrics of its file ``record``) list the folds they evaluated,
    the folds are those:
    fold models left from an earlier run with a larger ``final.k`` are skipped with a warning, a
    missing one raises.
    """
    model_dir = Path(model_dir)
    if model_dir.is_file():  # fold<N>/model.keras, say
        target = next((parent for parent in model_dir.parents if FOLD_DIR.match(parent.name)),
                      model_dir).parent  # fmt: skip
        raise ValueError(f"{model_dir} is a file: name its target's model directory, which "
                         f"holds every fold<N>/ ({target})")  # fmt: skip
    if not model_dir.is_dir():
        raise missing_models_error(model_dir, f"model directory not found: {model_dir}")
    folds = dict(
        sorted(
            (int(match.group(1)), path)
            for path in model_dir.iterdir()
            if (match := FOLD_DIR.match(path.name))
            and (path / "model.keras").is_file()
            and (path / "recipe.json").is_file()
        )
    )
    if not folds:
        raise missing_models_error(
            model_dir, f"no fold models (fold<N>/model.keras) in {model_dir}"
        )
    if metrics is not None and "fold_mae" in metrics:
        evaluated = sorted(int(fold) for fold in metrics["fold_mae"])
        folds = only_evaluated_folds(model_dir, folds, evaluated, record)
    recipes = {fold: json.loads((path / "recipe.json").read_text()) for fold, path in folds.items()}
    check_compatible(model_dir, recipes)
    return recipes


def only_evaluated_folds(
    model_dir: Path, folds: dict[int, Path], evaluated: list[int], record: str = METRICS
) -> dict[int, Path]:
    if missing := [fold for fold in evaluated if fold not in folds]:
        raise missing_models_error(
            model_dir, f"{model_dir}/{record} evaluated folds {evaluated}, but the models of "
            f"folds {missing} are missing"
        )  # fmt: skip
    if left_over := sorted(set(folds) - set(evaluated)):
        log.warning("%s: skipping fold models %s, which %s did not evaluate (left from an "
                    "earlier run with more folds)", model_dir, left_over, record)  # fmt: skip
    return {fold: folds[fold] for fold in evaluated}


def check_compatible(model_dir: Path, recipes: Mapping[int, dict]) -> None:
    """All fold models of a directory must share one target and one featurization."""
    specs = {
        fold: (FingerprintSpec(**recipe["fingerprint"]), uses_descriptors(recipe))
        for fold, recipe in recipes.items()
    }
    if len(set(specs.values())) > 1:
        described = ", ".join(
            f"fold {fold}: {spec.name}{' + descriptors' * described}"
            for fold, (spec, described) in specs.items()
        )
        raise ValueError(
            f"{model_dir}: the fold models use different fingerprints ({described}); "
            "they cannot form one ensemble, retrain them with one architecture"
        )
    targets = {recipe["target"] for recipe in recipes.values()}
    if len(targets) > 1:
        raise ValueError(f"{model_dir}: fold models of different targets {sorted(targets)}")


def as_ensembles(model_dirs, record: str = METRICS) -> dict[str, Ensemble]:
    """``{column prefix: Ensemble}`` from a path, an Ensemble, or a mapping or list of them;
    paths are loaded with ``record`` (see ``Ensemble.load``)."""
    if isinstance(model_dirs, Mapping):
        return {
            str(name): item if isinstance(item, Ensemble) else Ensemble.load(item, record)
            for name, item in model_dirs.items()
        }
    items = model_dirs if isinstance(model_dirs, list | tuple) else [model_dirs]
    ensembles: dict[str, Ensemble] = {}
    for item in items:
        ensemble = item if isinstance(item, Ensemble) else Ensemble.load(item, record)
        if ensemble.target in ensembles:
            raise ValueError(f"two model directories for target {ensemble.target}")
        ensembles[ensemble.target] = ensemble
    return ensembles


def prediction_options(
    ensembles: Mapping[str, Ensemble],
    largest_fragment: bool | None = None,
    neutralize: bool = False,
) -> StandardizeOptions:
    """The molecules the models predict: those their training molecules were (the ``ingest``
    options their metrics.json records; the defaults where none is recorded), keeping the
    largest fragment of a salt where ``largest_fragment`` says so and predicting a charged
    molecule as its neutral form where ``neutralize`` says so (``chemistry.neutralized``;
    never recorded: a training label is the species' as written). Models trained on molecules
    of different options are refused."""
    recorded = {
        str(ensemble.model_dir): ensemble.options
        for ensemble in ensembles.values()
        if ensemble.options is not None
    }
    distinct = set(recorded.values())
    if len(distinct) > 1:
        described = "; ".join(f"{path}: {options}" for path, options in recorded.items())
        raise ValueError(
            f"the models were trained on molecules of different ingest options ({described}); "
            "predict with the models of one run"
        )
    options = distinct.pop() if distinct else StandardizeOptions()
    options = replace(options, neutralize=neutralize)
    if largest_fragment is None:
        return options
    return replace(options, largest_fragment=largest_fragment)


def chosen_options(
    options: StandardizeOptions | None,
    ensembles: Mapping[str, Ensemble],
    largest_fragment: bool | None,
    neutralize: bool = False,
) -> StandardizeOptions:
    """``options`` where given, else ``prediction_options``; not both ``options`` and
    ``largest_fragment`` or ``neutralize``."""
    if options is None:
        return prediction_options(ensembles, largest_fragment, neutralize)
    if largest_fragment is not None or neutralize:
        raise ValueError("give options or largest_fragment and neutralize, not both")
    return options


# --- screening -----------------------------------------------------------------------------


def features_needed(ensembles: Mapping[str, Ensemble], similarity: bool = True) -> FeatureNeeds:
    """The fingerprints the ensembles read (each once), whether any reads descriptors or
    molecular graphs, and, with ``similarity``, the training molecules of those that record
    them."""
    specs = [ensemble.spec for ensemble in ensembles.values() if not ensemble.spec.learned]
    return FeatureNeeds(
        specs=tuple(dict.fromkeys(specs)),
        describe=any(ensemble.descriptors for ensemble in ensembles.values()),
        graphs=any(ensemble.spec.learned for ensemble in ensembles.values()),
        neighbours=shared_neighbours(ensembles) if similarity else (),
    )


def shared_neighbours(
    ensembles: Mapping[str, Ensemble],
) -> tuple[tuple[str, TrainingNeighbours], ...]:
    """Per column prefix, the training molecules its ensemble records, ready to search; targets
    trained on the same molecules share one object, so each chunk is searched once for them."""
    shared: list[tuple[str, pd.DataFrame, TrainingNeighbours]] = []
    for name, ensemble in ensembles.items():
        table = ensemble.training_molecules
        if table is None:
            continue
        alike = [known for _, other, known in shared if other.equals(table)]
        shared.append((name, table, alike[0] if alike else ensemble.neighbours))
    return tuple((name, training) for name, _, training in shared)


def prediction_kinds(metrics_columns: bool = True) -> tuple[str, ...]:
    """The prediction columns written per target: without ``METRICS_COLUMNS`` where the caller
    computes them later (the workflow's library screening, at the run's level and offsets)."""
    if metrics_columns:
        return PREDICTION_COLUMNS
    return tuple(kind for kind in PREDICTION_COLUMNS if kind not in METRICS_COLUMNS)


def output_columns(targets: Iterable[str]) -> list[str]:
    kinds = (*PREDICTION_COLUMNS, *NEIGHBOUR_COLUMNS)
    return ID_COLUMNS + [f"{target}_{kind}" for target in targets for kind in kinds]


def predicted_frame(
    chunk: PreparedChunk,
    ensembles: Mapping[str, Ensemble],
    extra_columns: Sequence[str] = (),
    metrics_columns: bool = True,
) -> pd.DataFrame:
    """The output rows of a chunk: identity, canonical SMILES, error, every prediction (see
    ``prediction_kinds``), and the input's other cells under ``extra_columns``."""
    frame = pd.DataFrame(
        {
            "line": chunk.line,
            "id": pd.Series(chunk.ids, dtype="str"),
            "input_smiles": pd.Series(chunk.input_smiles, dtype="str"),
            "smiles": pd.Series(chunk.smiles, dtype="str"),
            "error": pd.Series(chunk.errors, dtype="str"),
        }
    )
    parsed, rows = chunk.parsed, chunk.feature_row[chunk.parsed]
    left_out = set(PREDICTION_COLUMNS) - set(prediction_kinds(metrics_columns))
    for name, ensemble in ensembles.items():
        for kind, values in distinct_molecule_values(chunk, name, ensemble).items():
            if kind in left_out:
                continue
            text = values.dtype == object
            column = np.full(len(chunk), "" if text else np.nan, dtype=values.dtype)
            column[parsed] = values[rows]
            frame[f"{name}_{kind}"] = pd.Series(column, dtype="str") if text else column
    for position, name in enumerate(extra_columns):
        frame[name] = pd.Series([row[position] for row in chunk.extra], dtype="str")
    frame.attrs[CARRIED] = list(extra_columns)
    return frame


def distinct_molecule_values(
    chunk: PreparedChunk, name: str, ensemble: Ensemble
) -> dict[str, np.ndarray]:
    """Per distinct molecule of a chunk: an ensemble's ``PREDICTION_COLUMNS`` and its nearest
    training molecule's ``NEIGHBOUR_COLUMNS`` (NaN and "" where none was looked for: the
    ensemble records no training molecules, or ``similarity`` was off)."""
    described = chunk.descriptors if ensemble.descriptors else None
    features = chunk.graphs if ensemble.spec.learned else chunk.fingerprints[ensemble.spec]
    values = ensemble.predict_features(features, described)
    if name not in chunk.neighbours:
        n = len(values["pred"])
        return values | {"similarity": np.full(n, np.nan), "nearest": np.full(n, "", dtype=object)}
    similarity, nearest = chunk.neighbours[name]
    return values | {"similarity": similarity, "nearest": nearest}


def chunked_lines(lines: Iterable[SmilesLine], chunk_size: int) -> Iterator[LineBatch]:
    """At most ``chunk_size`` lines at a time."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    iterator = iter(lines)
    while batch := list(islice(iterator, chunk_size)):
        yield LineBatch.of(batch)


def prepared_chunks(
    chunks: Iterable[LineBatch],
    needs: FeatureNeeds,
    options: StandardizeOptions,
    processes: int,
) -> Iterator[PreparedChunk]:
    """Chunks standardized and fingerprinted, in order; in worker processes when ``processes > 1``.

    At most ``processes + 1`` chunks are in flight, so memory stays bounded by the chunk size.
    TensorFlow never runs in the workers (spawned, they import no Keras).
    """
    if processes <= 1:
        for chunk in chunks:
            yield prepare_chunk(chunk, needs, options)
        return
    with get_context("spawn").Pool(processes) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(prepare_chunk, (chunk, needs, options)))
            if len(pending) > processes:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def remove_parts(out_dir: Path) -> int:
    """Delete the parts (and half-written temporaries) of an earlier run; returns how many."""
    removed = 0
    for path in out_dir.iterdir():
        if PART_NAME.match(path.name) or (
            path.name.startswith(".part-") and path.name.endswith(".part")
        ):
            path.unlink()
            removed += 1
    return removed


def read_parts(out_dir: str | os.PathLike) -> pd.DataFrame:
    """All parts of a screen, concatenated in order (only for outputs that fit in memory)."""
    paths = part_paths(out_dir)
    if not paths:
        raise FileNotFoundError(f"no part-*.parquet files in {out_dir}")
    return pd.concat([pd.read_parquet(path) for path in paths], ignore_index=True)


OUTPUT_FORMATS = (".parquet", ".csv", ".tsv")


def concatenate_parts(out_dir: str | os.PathLike, out_path: str | os.PathLike) -> int:
    """Stream the parts into one Parquet file (one row group per part), one CSV or one TSV
    file (quoted only where needed, a missing value an empty field), by ``out_path``'s
    suffix; returns the rows."""
    suffix = Path(out_path).suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise ValueError(f"{out_path}: write predictions as {', '.join(OUTPUT_FORMATS)}")
    paths = part_paths(out_dir)
    if not paths:
        raise FileNotFoundError(f"no part-*.parquet files in {out_dir}")
    with atomic_path(out_path) as temporary:
        if suffix == ".parquet":
            return write_parquet_parts(paths, temporary)
        return write_text_parts(paths, temporary, delimiter="\t" if suffix == ".tsv" else ",")


def write_parquet_parts(paths: list[Path], out_path: Path) -> int:
    """The parts as the row groups of one Parquet file; returns the rows."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(paths[0])
    rows = 0
    with pq.ParquetWriter(str(out_path), schema) as writer:
        for path in paths:
            table = pq.read_table(path)
            writer.write_table(table.cast(schema))
            rows += table.num_rows
    return rows


def write_text_parts(paths: list[Path], out_path: Path, delimiter: str) -> int:
    """The parts one after the other in one delimited text file with one header; the rows."""
    rows = 0
    with open(out_path, "w", newline="", encoding="utf-8") as handle:
        for number, path in enumerate(paths):
            frame = pd.read_parquet(path)
            frame.to_csv(handle, sep=delimiter, index=False, header=number == 0)
            rows += len(frame)
    return rows


class RepeatedIds:
    """Rows whose id an earlier row of the same input has (a library may repeat ids; its rows
    are told apart by their ``line``), found from 64-bit hashes of the ids: 8 bytes a row
    while predicting, whatever the ids' length, and 8 more while counting. Two different ids
    of the same hash (odds of about rows² / 2⁶⁵) would be counted as one."""

    def __init__(self) -> None:
        self.chunks: list[np.ndarray] = []  # the hashes of each chunk's ids

    def add(self, ids: Sequence[str]) -> None:
        self.chunks.append(pd.util.hash_array(np.asarray(ids, dtype=object)))

    def found(self) -> tuple[int, tuple[int, int] | None, tuple[int, int] | None]:
        """How many rows repeat an earlier row's id; the first such row and the row whose id
        it repeats, each as (chunk, row in the chunk); (0, None, None) where none does."""
        ordered = np.concatenate(self.chunks or [np.zeros(0, np.uint64)])
        ordered.sort()  # in place: 8 bytes a row more, not 16
        repeats = ordered[1:] == ordered[:-1]
        if not repeats.any():
            return 0, None, None
        repeated = np.unique(ordered[1:][repeats])  # sorted
        del ordered
        first_seen: dict[int, tuple[int, int]] = {}
        for chunk, hashes in enumerate(self.chunks):
            found = repeated[np.searchsorted(repeated, hashes) % len(repeated)] == hashes
            for row in np.flatnonzero(found):
                key = int(hashes[row])
                if key in first_seen:
                    return int(repeats.sum()), (chunk, int(row)), first_seen[key]
                first_seen[key] = (chunk, int(row))
        raise AssertionError("a repeated hash was not found again")


@dataclass
class ScreenTimer:
    """Seconds spent per stage (parse and featurize summed over worker processes)."""

    parse: float = 0.0
    featurize: float = 0.0
    wait: float = 0.0
    predict: float = 0.0
    write: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {f"{name}_seconds": value for name, value in self.__dict__.items()}


def check_output_outside_input(smiles_path: str | Path, out: str | Path) -> None:
    """Raise ``ValueError`` where writing ``out`` would overwrite, remove or join the input
    before it is read: ``out`` is the input, or inside the input's directory of Parquet parts,
    or the directory whose ``part-<N>.parquet`` files (removed first) include the input."""
    smiles_path, out = Path(smiles_path).resolve(), Path(out).resolve()
    if out == smiles_path or (smiles_path.is_dir() and smiles_path in out.parents):
        where = "" if out == smiles_path else "inside "
        raise ValueError(
            f"{out}: the output is {where}the input {smiles_path}; write the predictions elsewhere"
        )
    if smiles_path.parent == out and PART_NAME.match(smiles_path.name):
        raise ValueError(
            f"{out}: the output directory's part-<N>.parquet files are removed first, and the "
            f"input {smiles_path.name} is one of them; write the predictions elsewhere"
        )


def predict_smiles_file(
    smiles_path: str | os.PathLike,
    model_dirs: Mapping[str, str | os.PathLike | Ensemble],
    out_dir: str | os.PathLike,
    chunk_size: int = 50_000,
    progress: bool = True,
    processes: int = 1,
    options: StandardizeOptions | None = None,
    columns: SmilesColumns | None = None,
    largest_fragment: bool | None = None,
    neutralize: bool = False,
    similarity: bool = True,
    record: str = METRICS,
) -> dict:
    """Predict every molecule of a SMILES file with every target's ensemble, chunk by chunk.

    ``model_dirs`` maps a column prefix (the target) to its model directory (or a loaded
    ``Ensemble``). Writes ``out_dir/part-00000.parquet``, ... (one per chunk, each atomically)
    with columns ``line, id, input_smiles, smiles, error`` and ``<T>_pred, <T>_spread,
    <T>_half_width, <T>_study, <T>_v_li, <T>_similarity, <T>_nearest`` per target (the last
    two: the nearest training molecule, looked for with ``similarity`` where the model directory
    records its training molecules), then a table's other columns as text (prefixed
    ``input_`` where an output or screening column has the name; recorded in the frame's
    ``attrs``, see ``tables.input_columns``); a molecule that cannot be standardized gets
    its reason in ``error`` and NaN predictions. A molecule that a chunk lists again (the same
    canonical SMILES) is featurized and predicted once; every row gets its prediction. Parts
    of an earlier run are removed first.
    ``columns`` names a table's SMILES and id columns (see ``tables.iter_smiles_file``).
    Molecules are standardized with ``options``, by default ``prediction_options`` (with
    ``largest_fragment`` and ``neutralize``). ``record`` names the file of each model directory
    that says what its models are: ``metrics.json``, or the models' record alone
    (``final_record.MODELS_RECORD``, as the workflow predicts libraries), which leaves
    ``<T>_half_width`` and ``<T>_v_li`` out: the workflow computes them when it screens (from
    ``<T>_spread`` and ``metrics.json``, and with the config's offsets), so that another interval
    level or other potentials predict nothing again.

    While a chunk is predicted and written (in a thread: TensorFlow releases the GIL), the
    next one is standardized, fingerprinted and compared with the training molecules, in this
    process or, with ``processes > 1``, in that many worker processes. Returns counts
    (``repeated``: rows predicted once with an earlier row of their chunk; ``repeated_ids``:
    rows with an earlier row's id, which the log warns of), throughput and seconds per stage.
    """
    started = time.perf_counter()
    smiles_path = Path(smiles_path)
    if not smiles_path.exists():  # a file, or a directory of Parquet parts
        raise FileNotFoundError(f"SMILES file not found: {smiles_path}")
    check_output_outside_input(smiles_path, out_dir)
    ensembles = as_ensembles(dict(model_dirs), record)
    metrics_columns = record == METRICS
    options = chosen_options(options, ensembles, largest_fragment, neutralize)
    needs = features_needed(ensembles, similarity)
    extra_columns = carried_column_names(  # the same names in the screening candidates
        smiles_file_extra_columns(smiles_path, columns),
        [*output_columns(ensembles), *SCREEN_COLUMNS, *LIBRARY_ADDED_COLUMNS],
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if removed := remove_parts(out_dir):
        log.info("removed %d parts of an earlier run from %s", removed, out_dir)
    timer = ScreenTimer()

    def predict_and_write(chunk: PreparedChunk, part: Path) -> None:
        predicting = time.perf_counter()
        frame = predicted_frame(chunk, ensembles, extra_columns, metrics_columns)
        writing = time.perf_counter()
        write_table(frame, part)
        timer.predict += writing - predicting
        timer.write += time.perf_counter() - writing

    molecules = failed = repeated = parts = 0
    ids = RepeatedIds()
    total = molecule_count_bound(smiles_path) if progress else None
    chunks = chunked_lines(iter_smiles_file(smiles_path, columns), chunk_size)
    bar = tqdm(total=total, unit="mol", unit_scale=True, disable=not progress, desc="predict")
    stream = closing(prepared_chunks(chunks, needs, options, processes))
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")
    with bar, stream as stream, executor:
        running: tuple | None = None  # (future, chunk size, failures, repeats)
        while True:
            waited = time.perf_counter()
            chunk = next(stream, None)
            timer.wait += time.perf_counter() - waited
            if running is not None:  # at most one chunk predicting while the next is prepared
                future, size, failures, repeats = running
                future.result()
                molecules, failed = molecules + size, failed + failures
                repeated += repeats
                bar.update(size)
                running = None
            if chunk is None:
                break
            ids.add(chunk.ids)
            timer.parse += chunk.seconds["parse"]
            timer.featurize += chunk.seconds["featurize"]
            part = part_path(out_dir, parts)
            future = executor.submit(predict_and_write, chunk, part)
            running = (future, len(chunk), int((~chunk.parsed).sum()), chunk.repeats)
            parts += 1
        if parts == 0:  # an empty library still gets a (header-only) part to read
            frame = empty_frame(ensembles, extra_columns, metrics_columns)
            write_table(frame, part_path(out_dir, 0))
            parts = 1
        bar.total = bar.n
    repeated_ids, *pair = ids.found()
    if repeated_ids:
        warn_of_repeated_ids(repeated_ids, *(line_and_id(out_dir, *row) for row in pair))
    seconds = time.perf_counter() - started
    counts = {
        "molecules": molecules,
        "predicted": molecules - failed,
        "failed": failed,
        "repeated": repeated,
        "repeated_ids": repeated_ids,
        "parts": parts,
        "seconds": seconds,
        "molecules_per_second": molecules / seconds if seconds > 0 else float("nan"),
        **timer.as_dict(),
    }
    log.info("predicted %d of %d molecules (%d failed; %d listed again in their chunk, "
             "predicted once) in %.1f s, %.0f mol/s", molecules - failed, molecules, failed,
             repeated, seconds, counts["molecules_per_second"])  # fmt: skip
    return counts


def line_and_id(out_dir: Path, chunk: int, row: int) -> tuple[int, str]:
    """The ``line`` and ``id`` of a row of a written part (one part per chunk)."""
    part = pd.read_parquet(part_path(out_dir, chunk), columns=["line", "id"])
    return int(part["line"].iloc[row]), str(part["id"].iloc[row])


def warn_of_repeated_ids(count: int, repeat: tuple[int, str], first: tuple[int, str]) -> None:
    log.warning("%d rows repeat the id of an earlier row (the first: line %d repeats the id %r "
                "of line %d); the predictions tell them apart by their line", count, repeat[0],
                repeat[1], first[0])  # fmt: skip


def empty_frame(
    ensembles: Mapping[str, Ensemble],
    extra_columns: Sequence[str] = (),
    metrics_columns: bool = True,
) -> pd.DataFrame:
    """The output columns with no rows."""
    frame = pd.DataFrame({column: pd.Series([], dtype="str") for column in ID_COLUMNS})
    frame["line"] = np.zeros(0, dtype=np.int64)
    for name in ensembles:
        for kind in prediction_kinds(metrics_columns):
            frame[f"{name}_{kind}"] = np.zeros(0)
        frame[f"{name}_similarity"] = np.zeros(0)
        frame[f"{name}_nearest"] = pd.Series([], dtype="str")
    for name in extra_columns:
        frame[name] = pd.Series([], dtype="str")
    frame.attrs[CARRIED] = list(extra_columns)
    return frame


def predict_smiles(
    smiles: Sequence[str],
    model_dir,
    ids: Sequence[str] | None = None,
    options: StandardizeOptions | None = None,
    largest_fragment: bool | None = None,
    neutralize: bool = False,
    similarity: bool = True,
) -> pd.DataFrame:
    """Predict a list of SMILES in memory: the rows ``predict_smiles_file`` would write.

    ``model_dir`` is a target's model directory or an ``Ensemble`` (or a list of them, or a
    mapping of column prefix to either); columns are named after each model's target.
    ``line`` is the 1-based position in the list; ``ids`` default to ``line<N>``.
    """
    ensembles = as_ensembles(model_dir)
    smiles = [str(text) for text in smiles]
    ids = [f"line{n}" for n in range(1, len(smiles) + 1)] if ids is None else list(map(str, ids))
    if len(ids) != len(smiles):
        raise ValueError(f"{len(ids)} ids for {len(smiles)} SMILES")
    if not smiles:
        return empty_frame(ensembles)
    numbers = list(range(1, len(smiles) + 1))
    lines = LineBatch(numbers, ids, smiles, [()] * len(smiles), [""] * len(smiles))
    options = chosen_options(options, ensembles, largest_fragment, neutralize)
    chunk = prepare_chunk(lines, features_needed(ensembles, similarity), options)
    return predicted_frame(chunk, ensembles)
