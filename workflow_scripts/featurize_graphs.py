"""Rule featurize_graphs: the molecular graphs that every message-passing network reads."""

from redoxscreen.graphs import graph_table
from redoxscreen.rulelog import rule_log


def main(smk) -> None:
    with rule_log(smk.log[0]):
        graph_table(smk.input.molecules, smk.output.store, smk.threads)


# The guard matters: the spawn-started workers re-import this file as __mp_main__.
if __name__ == "__main__":
    main(snakemake)
