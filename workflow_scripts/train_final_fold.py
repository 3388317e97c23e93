"""Rule train_final_fold: one fold of the final cross-validation, saved as a .keras model."""

from pathlib import Path

import yaml

from redoxscreen.rulelog import rule_log
from redoxscreen.training import train_fold_of_rule

with rule_log(snakemake.log[0]):
    selected = yaml.safe_load(Path(snakemake.input.selected).read_text())
    train_fold_of_rule(snakemake, selected, final=True)
