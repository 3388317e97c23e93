"""Rule train_grid_fold: one (target, model, fold) job of the model search."""

from redoxscreen.rulelog import rule_log
from redoxscreen.training import train_fold_of_rule

with rule_log(snakemake.log[0]):
    train_fold_of_rule(snakemake, snakemake.params.architecture)
