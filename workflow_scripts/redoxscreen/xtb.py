"""Vertical ionization energy (IE) and electron affinity (EA) with xTB, through tblite.

For each molecule (a neutral, closed-shell SMILES):

1. geometry: RDKit adds hydrogens, embeds with ETKDG v3 (seeded, so runs repeat exactly) and
   optimises with MMFF94; UFF is used only when MMFF94 has no parameters for the molecule, and
   the force field used is recorded. Coordinates go to tblite in Bohr.
2. three single points at that neutral geometry with tblite (default method IPEA1-xTB, the
   GFN1-xTB variant parametrised for ionization potentials and electron affinities, with ALPB
   implicit acetonitrile by default): the neutral (charge 0, closed shell), the cation
   (charge +1, one unpaired electron) and the anion (charge -1, one unpaired electron).
3. vertical energies, in eV::

       IE = (E_cation - E_neutral) * 27.211386 - ipea_shift_ev
       EA = (E_neutral - E_anion) * 27.211386 - ipea_shift_ev

The shift is the empirical IP/EA correction that the ``xtb`` program applies in its
``--vip``/``--vea``/``--vipea`` runs: the global ``ipeashift`` parameter of the IPEA-xTB and
GFN1-xTB parametrisations, 0.178069 Eh = 4.8455 eV (``xtb --vipea`` prints
"empirical IP shift (eV): 4.8455"). tblite's Python API returns raw total energies without that
correction, so it is subtracted here; ``XtbSettings.ipea_shift_ev`` sets it (0 disables it).

The labels are vertical, at the force-field geometry of the neutral, and in implicit solvent:
a cheap, deterministic proxy for oxidation and reduction potentials. Against the Li+/Li
electrode, potentials are roughly IE - 1.40 V (oxidation) and EA - 1.40 V (reduction).

Failures are raised as :class:`LabellingError` naming the SMILES and the stage (``parse``,
``embed``, ``force_field``, ``scf``). :func:`label_molecules` turns them into one failure row
per molecule, so one bad molecule never stops the others; a table row that cannot be read is
a failure at stage ``input``.

Parallel runs use ``multiprocessing`` with the *spawn* start method: tblite runs on OpenMP
(GNU libgomp), which is not safe to use in a child forked from a parent that already ran
OpenMP code. Each worker sets ``OMP_NUM_THREADS=1`` (and the BLAS equivalents) before it first
imports tblite, so ``processes`` workers use ``processes`` cores; ``processes=1`` runs in this
process under a one-thread ``threadpoolctl`` limit. One thread everywhere also makes the energies
bit-identical whatever the number of processes (OpenMP reductions over several threads may
differ in the last bits).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, RDLogger
from rdkit.Chem import AllChem, Descriptors
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from redoxscreen.tables import SmilesColumns, SmilesLine, iter_smiles_file, write_table

log = logging.getLogger(__name__)

HARTREE_TO_EV = 27.211386
BOHR_IN_ANGSTROM = 0.529177210903

#: xtb's ``ipeashift`` (0.178069 Eh) in eV, as printed by ``xtb --vipea``.
XTB_IPEA_SHIFT_EV = 4.8455

LABEL_COLUMNS = ["id", "smiles", "ie_ev", "ea_ev", "force_field"]
FAILURE_COLUMNS = ["id", "smiles", "stage", "error"]

#: Environment variables that pin OpenMP and BLAS libraries to one thread.
SINGLE_THREAD_ENVIRONMENT = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

#: Force-field iterations before an unconverged optimisation counts as a failure.
FORCE_FIELD_MAX_ITERATIONS = 10_000


@dataclass(frozen=True)
class XtbSettings:
    """How to compute the labels; every field can be set from the workflow config."""

    method: str = "IPEA1-xTB"
    solvent: str | None = "acetonitrile"
    ipea_shift_ev: float = XTB_IPEA_SHIFT_EV
    embed_seed: int = 42
    max_iterations: int = 250
    accuracy: float = 1.0


@dataclass(frozen=True)
class XtbResult:
    """Vertical IE and EA (eV) of one molecule, the force field of its geometry, the time."""

    ie_ev: float
    ea_ev: float
    force_field: str
    seconds: float


class LabellingError(ValueError):
    """One molecule could not be labelled; ``stage`` says where it failed."""

    def __init__(self, smiles: str, stage: str, reason: str) -> None:
        super().__init__(f"{smiles!r}: {stage} failed: {reason}")
        self.smiles = smiles
        self.stage = stage
        self.reason = reason

    def __reduce__(self):  # keep the stage and reason when sent back from a worker process
        return (type(self), (self.smiles, self.stage, self.reason))


def _parse(smiles: str) -> Chem.Mol:
    if not smiles.strip():
        raise LabellingError(smiles, "parse", "the SMILES is empty")
    RDLogger.DisableLog("rdApp.*")
    try:
        molecule = Chem.MolFromSmiles(smiles)
    finally:
        RDLogger.EnableLog("rdApp.*")
    if molecule is None:
        raise LabellingError(smiles, "parse", "RDKit cannot parse or sanitise the SMILES")
    charge = Chem.GetFormalCharge(molecule)
    if charge != 0:
        raise LabellingError(
            smiles, "parse", f"net charge {charge:+d}; only neutral molecules are labelled"
        )
    radicals = Descriptors.NumRadicalElectrons(molecule)
    if radicals:
        raise LabellingError(
            smiles,
            "parse",
            f"{radicals} unpaired electron(s); only closed-shell molecules are labelled",
        )
    return Chem.AddHs(molecule)


def _embed(smiles: str, molecule: Chem.Mol, seed: int) -> None:
    parameters = AllChem.ETKDGv3()
    parameters.randomSeed = seed
    try:
        status = AllChem.EmbedMolecule(molecule, parameters)
    except Exception as error:  # RDKit raises plain RuntimeError / ValueError here
        raise LabellingError(smiles, "embed", f"{type(error).__name__}: {error}") from error
    if status != 0:
        raise LabellingError(smiles, "embed", f"ETKDG v3 found no 3D embedding (seed {seed})")


def _optimise(smiles: str, molecule: Chem.Mol) -> str:
    """Optimise in place with MMFF94, or UFF when MMFF94 lacks parameters; return which."""
    try:
        if AllChem.MMFFHasAllMoleculeParams(molecule):
            name = "MMFF94"
            status = AllChem.MMFFOptimizeMolecule(
                molecule, mmffVariant="MMFF94", maxIters=FORCE_FIELD_MAX_ITERATIONS
            )
        elif AllChem.UFFHasAllMoleculeParams(molecule):
            name = "UFF"
            status = AllChem.UFFOptimizeMolecule(molecule, maxIters=FORCE_FIELD_MAX_ITERATIONS)
        else:
            raise LabellingError(smiles, "force_field", "neither MMFF94 nor UFF has parameters")
    except LabellingError:
        raise
    except Exception as error:
        raise LabellingError(smiles, "force_field", f"{type(error).__name__}: {error}") from error
    if status == -1:
        raise LabellingError(smiles, "force_field", f"{name} could not set up the force field")
    if status != 0:
        raise LabellingError(
            smiles,
            "force_field",
            f"{name} optimisation did not converge in {FORCE_FIELD_MAX_ITERATIONS} iterations",
        )
    return name


def _single_point(
    smiles: str,
    numbers: np.ndarray,
    positions: np.ndarray,
    charge: int,
    uhf: int,
    settings: XtbSettings,
) -> float:
    from tblite.interface import Calculator  # imported late: see the module docstring

    state = {0: "neutral", 1: "cation", -1: "anion"}[charge]
    try:
        calculator = Calculator(settings.method, numbers, positions, charge=charge, uhf=uhf)
        calculator.set("verbosity", 0)
        calculator.set("max-iter", settings.max_iterations)
        calculator.set("accuracy", settings.accuracy)
        if settings.solvent:
            calculator.add("alpb-solvation", settings.solvent)
        energy = float(calculator.singlepoint().get("energy"))
    except Exception as error:  # tblite raises TBLiteRuntimeError / TBLiteValueError
        raise LabellingError(
            smiles, "scf", f"{state} ({settings.method}): {type(error).__name__}: {error}"
        ) from error
    if not np.isfinite(energy):
        raise LabellingError(smiles, "scf", f"{state} ({settings.method}): energy {energy}")
    return energy


def vertical_ie_ea(smiles: str, settings: XtbSettings | None = None) -> XtbResult:
    """Vertical IE and EA (eV) of one neutral closed-shell molecule; see the module docstring.

    Raises :class:`LabellingError` with the stage that failed.
    """
    settings = settings or XtbSettings()
    start = time.perf_counter()
    molecule = _parse(smiles)
    _embed(smiles, molecule, settings.embed_seed)
    force_field = _optimise(smiles, molecule)
    numbers = np.array([atom.GetAtomicNum() for atom in molecule.GetAtoms()], dtype=np.int32)
    positions = np.asarray(molecule.GetConformer().GetPositions()) / BOHR_IN_ANGSTROM
    neutral = _single_point(smiles, numbers, positions, 0, 0, settings)
    cation = _single_point(smiles, numbers, positions, 1, 1, settings)
    anion = _single_point(smiles, numbers, positions, -1, 1, settings)
    return XtbResult(
        ie_ev=(cation - neutral) * HARTREE_TO_EV - settings.ipea_shift_ev,
        ea_ev=(neutral - anion) * HARTREE_TO_EV - settings.ipea_shift_ev,
        force_field=force_field,
        seconds=time.perf_counter() - start,
    )


# --- parallel labelling ---------------------------------------------------------------------

_worker_settings: XtbSettings | None = None


def _initialise_worker(settings: XtbSettings, single_thread: bool) -> None:
    global _worker_settings
    _worker_settings = settings
    if single_thread:
        os.environ.update(SINGLE_THREAD_ENVIRONMENT)


def _label_one(item: tuple[str, str]) -> tuple[str, str, XtbResult | LabellingError]:
    molecule_id, smiles = item
    try:
        return molecule_id, smiles, vertical_ie_ea(smiles, _worker_settings)
    except LabellingError as error:
        return molecule_id, smiles, error


def _results(
    molecules: Sequence[tuple[str, str]], settings: XtbSettings, processes: int
) -> Iterable[tuple[str, str, XtbResult | LabellingError]]:
    if processes == 1:
        _initialise_worker(settings, single_thread=False)
        import tblite.interface  # noqa: F401  (load libgomp so that the limit below reaches it)

        # one thread, as in the workers: the same core count and bit-identical energies
        with threadpool_limits(limits=1):
            yield from map(_label_one, molecules)
        return
    chunksize = max(1, min(16, len(molecules) // (processes * 8)))
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes, _initialise_worker, (settings, True)) as pool:
        yield from pool.imap(_label_one, molecules, chunksize=chunksize)


def check_settings(settings: XtbSettings) -> None:
    """Raise ``ValueError`` naming ``xtb.solvent`` where tblite does not know the solvent
    (checked on H2 before any molecule: a misspelt name would fail every one of them)."""
    from tblite.interface import Calculator

    if not settings.solvent:
        return
    numbers, positions = np.array([1, 1], dtype=np.int32), np.array([[0, 0, 0], [0, 0, 1.4]])
    with threadpool_limits(limits=1):
        calculator = Calculator(settings.method, numbers, positions)
        calculator.set("verbosity", 0)
        try:
            calculator.add("alpb-solvation", settings.solvent)
        except (RuntimeError, ValueError) as error:  # TBLiteRuntimeError, TBLiteValueError
            raise ValueError(
                f"xtb.solvent: tblite does not know {settings.solvent!r} ({error}); name an "
                "ALPB solvent such as acetonitrile, water or dmso, or null for the gas phase"
            ) from error


def label_molecules(
    molecules: Sequence[tuple[str, str]],
    settings: XtbSettings | None = None,
    processes: int = 1,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Label ``(id, smiles)`` pairs; return (labels, failures) tables in input order.

    ``labels`` has columns id, smiles, ie_ev, ea_ev, force_field; ``failures`` has id, smiles,
    stage, error. ``processes`` > 1 runs a spawn-started process pool (one OpenMP thread per
    worker); ``processes`` = 1 runs in this process.
    """
    settings = settings or XtbSettings()
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    check_settings(settings)
    molecules = [(str(molecule_id), str(smiles)) for molecule_id, smiles in molecules]
    processes = min(processes, max(1, len(molecules)))
    labels: list[dict[str, object]] = []
    failures: list[dict[str, object]] = []
    results = _results(molecules, settings, processes)
    with tqdm(total=len(molecules), desc="xTB labels", unit="mol", disable=not progress) as bar:
        for molecule_id, smiles, outcome in results:
            if isinstance(outcome, LabellingError):
                log.warning("%s: %s", molecule_id, outcome)
                failures.append(failure(molecule_id, smiles, outcome.stage, outcome.reason))
            else:
                labels.append(
                    {
                        "id": molecule_id,
                        "smiles": smiles,
                        "ie_ev": outcome.ie_ev,
                        "ea_ev": outcome.ea_ev,
                        "force_field": outcome.force_field,
                    }
                )
            bar.update()
    return (
        pd.DataFrame(labels, columns=LABEL_COLUMNS),
        pd.DataFrame(failures, columns=FAILURE_COLUMNS),
    )


def label_smiles_file(
    smiles_path: str | os.PathLike,
    out_csv: str | os.PathLike,
    failures_tsv: str | os.PathLike,
    settings: XtbSettings | None = None,
    processes: int = 1,
    progress: bool = True,
    columns: SmilesColumns | None = None,
) -> dict[str, float | int]:
    """Label every molecule of a SMILES file (any that ``tables.iter_smiles_file`` reads: ``SMILES
    id`` lines, an SD file, a table, read by ``columns``); write labels and failures atomically. The failures list the
    lines that could not be read first (stage ``input``, their line in ``error``), then the
    molecules xTB could not label, in input order.

    Returns counts: molecules, labelled, failed, and the wall time in seconds.
    """
    settings = settings or XtbSettings()
    start = time.perf_counter()
    lines = list(iter_smiles_file(smiles_path, columns))
    molecules = [(line.id, line.smiles) for line in lines if not line.problem]
    log.info(
        "labelling %d molecules from %s with %d process(es); settings %s",
        len(molecules),
        Path(smiles_path),
        processes,
        asdict(settings),
    )
    labels, failures = label_molecules(molecules, settings, processes, progress)
    if unread := unread_lines(lines):
        unread_rows = pd.DataFrame(unread, columns=FAILURE_COLUMNS)
        failures = pd.concat([unread_rows, failures], ignore_index=True)
    write_table(labels, out_csv)
    write_table(failures, failures_tsv)
    counts = {
        "molecules": len(lines),
        "labelled": len(labels),
        "failed": len(failures),
        "seconds": round(time.perf_counter() - start, 3),
    }
    log.info("labelled %(labelled)d of %(molecules)d, %(failed)d failed, %(seconds).1f s", counts)
    return counts


def unread_lines(lines: Sequence[SmilesLine]) -> list[dict[str, str]]:
    """Failures (stage ``input``) of the lines that could not be read, e.g. ``extra_cells``."""
    unread = [line for line in lines if line.problem]
    for line in unread:
        log.warning("%s: %s", line.id, line.problem)
    return [failure(line.id, line.smiles, "input", line.problem) for line in unread]


def failure(molecule_id: str, smiles: str, stage: str, error: str) -> dict[str, str]:
    """One row of the failures table."""
    return {"id": molecule_id, "smiles": smiles, "stage": stage, "error": error}
