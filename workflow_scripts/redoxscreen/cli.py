"""Command line: ``redoxscreen predict`` screens a SMILES file with trained models.

``make venv`` writes ``.venv/bin/redoxscreen`` (``redoxscreen.console``); without it, run
``PYTHONPATH=workflow_scripts python -m redoxscreen``:

    .venv/bin/redoxscreen predict \\
        --model-dir results/final/IE --model-dir results/final/EA \\
        --smiles library.smi --out predictions.parquet
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

PREDICT_DESCRIPTION = """\
Predict every molecule of a SMILES file with the fold models of one or more trained targets.

Each output row holds the input line number, id and SMILES, the canonical SMILES (empty when
the molecule was rejected), the rejection reason in `error` (empty when fine), and per
target T: T_pred (mean over the fold models), T_spread (their SD, ddof=1), T_half_width (the
per-molecule half-width from the calibrated spread; the line printed after the counts names
the interval's level) and T_study (the fold model the study kept), all in the unit of the
target's labels; T_v_li (T_pred as a potential in V vs
Li/Li+, with the conversion and offsets that the models' metrics.json records; empty without
a conversion; the line printed after the counts gives the formula), T_similarity (the
Tanimoto similarity on ECFP4 bits of the most similar molecule the models trained on; 1.0
for one of them) and T_nearest (that molecule's id), then a table's other columns as text
(cells stripped; an unnamed one column<N>; prefixed input_ where an output or screening
column has the name in any case).
Rejected molecules get NaN predictions; they never stop the run; a table row with filled
cells beyond its header is rejected as extra_cells. Molecules are checked as the models'
training molecules were (the ingest options their metrics.json records: allowed elements,
net charge, salts), except that --largest-fragment keeps a salt's largest fragment and
--neutralize predicts a charged molecule's neutral form (sodium benzoate as benzoic acid with
both).
"""

PREDICT_EPILOG = """\
SMILES file: one molecule per line, `SMILES [id]`; blank lines and lines starting with # are
skipped, a first line `smiles [id]` is a header (one that names another column before
`smiles` is refused), a line without an id gets `line<N>`. A .csv (or tab-separated .tsv)
file needs a header with a `smiles` column (or the one --smiles-column names); its `id`
column, else its `name` column (or the one --id-column names), gives the ids. Column names
are matched whatever their case (where a header holds a name in two cases, the exact case
decides). A .csv whose header holds more semicolons than commas is
read as semicolon-separated. Files are UTF-8 (Excel: "CSV UTF-8"). A .parquet table is read
as a .csv table is, in batches (every cell as text, a null or NaN empty; its `line` is the
row, ids default to `row<N>`). An .xlsx workbook's first sheet is read as a .csv table is
(its `line` is the row in the sheet).

examples:
  %(prog)s --model-dir results/final/IE --model-dir results/final/EA \\
      --smiles library.smi --out predictions.parquet
  %(prog)s --model-dir results/final/IE --smiles candidates.csv \\
      --out predictions.csv
  %(prog)s --model-dir results/final/IE --smiles pubchem.csv \\
      --smiles-column IsomericSMILES --id-column CID --out predictions.csv
  %(prog)s --model-dir results/final/IE --smiles big.smi --out parts/
"""


class UsageError(Exception):
    """A problem with the command line's inputs: reported in one line, exit status 2."""


def program_name() -> str:
    """`redoxscreen` as .venv/bin/redoxscreen runs it, else `python -m redoxscreen`."""
    from redoxscreen.console import COMMAND  # the name that command gives itself

    return COMMAND if sys.argv[0] == COMMAND else "python -m redoxscreen"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="redoxscreen: learn and screen ionization energy and electron affinity.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    predict = commands.add_parser(
        "predict",
        help="predict a SMILES file with trained models",
        description=PREDICT_DESCRIPTION,
        epilog=PREDICT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument(
        "--model-dir",
        "--model-paths",  # chemprop's names
        "--model-path",
        "--model",  # else argparse finds it an ambiguous abbreviation of the three above
        action="extend",
        nargs="+",
        required=True,
        metavar="DIR",
        help="a target's final model directory with fold<N>/model.keras, e.g. results/final/IE "
        "(made by `snakemake results/final/IE/metrics.json`); name more targets after it, or "
        "repeat it. The "
        "target's name, which prefixes its columns, is read from the models' recipe.json",
    )
    predict.add_argument(
        "-i",
        "--smiles",
        required=True,
        metavar="FILE",
        help="the SMILES file (.smi), SD file (.sdf), or .csv, .tsv, .xlsx or .parquet table (or "
        "a directory of Parquet parts) to predict; .smi, .sdf, .csv, .tsv and Enamine's .cxsmiles "
        "may be compressed (.gz, .bz2, .xz, or a .zip holding one)",
    )
    predict.add_argument(
        "--smiles-column",
        default="smiles",
        metavar="NAME",
        help="a table's column with the SMILES (default: %(default)s)",
    )
    predict.add_argument(
        "--id-column",
        metavar="NAME",
        help="a table's column with the ids (default: id, else name, else line<N>; row<N> in "
        "a .parquet table)",
    )
    predict.add_argument(
        "-o",
        "--out",
        required=True,
        metavar="PATH",
        help="X.parquet, X.csv or X.tsv: one file; DIR/ (an existing directory or a path ending in /): "
        "one part-NNNNN.parquet per chunk, replacing the parts of an earlier run",
    )
    predict.add_argument(
        "--chunk-size",
        type=positive_int,
        default=50_000,
        metavar="N",
        help="molecules per chunk; memory grows with it (default: %(default)s)",
    )
    predict.add_argument(
        "--processes",
        type=positive_int,
        default=1,
        metavar="N",
        help="worker processes that standardize and fingerprint chunks while this one "
        "predicts; 1 does it in this process, overlapped with prediction. On 2 cores, 2 was "
        "about 20%% faster than 1 and held about 450 MiB more (default: %(default)s)",
    )
    predict.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        metavar="N",
        help="TensorFlow intra-op threads; 1 is fastest on a few cores, where the other "
        "cores standardize the next chunk meanwhile (default: %(default)s)",
    )
    predict.add_argument(
        "--largest-fragment",
        action="store_true",
        help="keep the largest fragment of a salt or mixture instead of rejecting it (default: "
        "as the models' training molecules; their allowed elements always apply)",
    )
    predict.add_argument(
        "--neutralize",
        action="store_true",
        help="predict a charged molecule as the neutral one that protons added or removed "
        "make of it (benzoate as benzoic acid) instead of rejecting it (default: rejected "
        "where the models' training molecules were neutral; zwitterions are kept as written, "
        "and a charge that no proton removes is refused)",
    )
    predict.add_argument(
        "--no-similarity",
        action="store_true",
        help="do not look for each molecule's nearest training molecule (T_similarity and "
        "T_nearest stay empty): the search's time grows with the training set",
    )
    predict.add_argument("--no-progress", action="store_true", help="no progress bar")
    predict.add_argument("-v", "--verbose", action="store_true", help="log what is loaded")
    predict.set_defaults(run=run_predict)
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def wants_directory(out: str) -> bool:
    return out.endswith(("/", "\\")) or Path(out).is_dir()


def run_predict(args: argparse.Namespace) -> int:
    from redoxscreen import predict
    from redoxscreen.rulelog import tensorflow_start_notes_dropped
    from redoxscreen.tables import SmilesColumns, required_first_molecule

    started = time.perf_counter()
    smiles = Path(args.smiles)
    if not smiles.exists():  # a file, or a directory of Parquet parts
        raise UsageError(f"SMILES file not found: {smiles}")
    out_format = Path(args.out).suffix.lower()
    if not wants_directory(args.out) and out_format not in predict.OUTPUT_FORMATS:
        raise UsageError(f"--out {args.out}: name a .parquet, .csv or .tsv file, or a directory/")
    try:
        predict.check_output_outside_input(smiles, args.out)
        columns = SmilesColumns(smiles=args.smiles_column, id=args.id_column)
        required_first_molecule(smiles, columns)  # a missing column or header, no molecule
        for model_dir in args.model_dir:  # before TensorFlow starts: quick, quiet errors
            predict.read_recipes(model_dir, predict.read_metrics(model_dir))
        with tensorflow_start_notes_dropped():  # TensorFlow starts
            predict.configure_threads(args.threads)
        ensembles = predict.as_ensembles(list(args.model_dir))
        predict.prediction_options(ensembles)  # models trained on different molecules
    except (FileNotFoundError, ValueError) as error:
        raise UsageError(str(error)) from error
    settings = {
        "chunk_size": args.chunk_size,
        "progress": not args.no_progress,
        "processes": args.processes,
        "columns": columns,
        "largest_fragment": True if args.largest_fragment else None,
        "neutralize": args.neutralize,
        "similarity": not args.no_similarity,
    }
    counts = write_predictions(smiles, ensembles, args.out, settings)
    seconds = time.perf_counter() - started  # the whole command: loading models included
    rate = counts["molecules"] / seconds
    repeated = f"; {counts['repeated']} listed again, predicted once" if counts["repeated"] else ""
    print(
        f"predicted {counts['predicted']} of {counts['molecules']} molecules "
        f"({counts['failed']} failed{repeated}) in {seconds:.1f} s, {rate:.0f} mol/s",
        file=sys.stderr,
    )
    for ensemble in ensembles.values():
        print(ensemble.units_note(), file=sys.stderr)
    return 0


def write_predictions(smiles: Path, ensembles: dict, out: str, settings: dict) -> dict:
    """Predict into ``out``: a directory of parts, or one file gathered from them."""
    from redoxscreen import predict

    if wants_directory(out):
        return predict.predict_smiles_file(smiles, ensembles, out, **settings)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    parts = Path(tempfile.mkdtemp(prefix=f".{out.name}.parts-", dir=out.parent))
    try:
        counts = predict.predict_smiles_file(smiles, ensembles, parts, **settings)
        predict.concatenate_parts(parts, out)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.run(args)
    except UsageError as error:
        print(f"{parser.prog} {args.command}: error: {error}", file=sys.stderr)
        return 2
