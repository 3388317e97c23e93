"""Rule make_folds: a seeded fold for every molecule labelled for one target."""

from redoxscreen.folds import calibration_needed, write_target_folds
from redoxscreen.rulelog import rule_log

# read from the config, not a param: changing the screening changes no fold (screening, which
# it reruns, refuses the per-molecule interval where a target has no calibration set)
needs_calibration = calibration_needed(snakemake.wildcards.target, snakemake.config["screening"])

with rule_log(snakemake.log[0]):
    write_target_folds(
        molecules_path=snakemake.input.molecules,
        target=snakemake.wildcards.target,
        k=snakemake.params.k,
        seed=snakemake.params.seed,
        split=snakemake.params.split,
        out_path=snakemake.output.folds,
        calibration_fraction=snakemake.params.calibration_fraction,
        k_key=f"{snakemake.wildcards.stage}.k",
        needs_calibration=needs_calibration,
    )
