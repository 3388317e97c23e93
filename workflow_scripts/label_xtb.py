"""Rule label_xtb: vertical IE / EA of a SMILES file with xTB (redoxscreen.xtb)."""

from dataclasses import asdict

from redoxscreen.rulelog import rule_log
from redoxscreen.tables import SmilesColumns
from redoxscreen.xtb import XtbSettings, label_smiles_file


def main(smk) -> None:
    with rule_log(smk.log[0]) as log:
        settings = XtbSettings(**dict(smk.params.xtb))
        log.info("xTB settings %s, %d process(es)", asdict(settings), smk.threads)
        counts = label_smiles_file(
            smk.input.smiles,
            smk.output.labels,
            smk.output.failures,
            settings=settings,
            processes=smk.threads,
            columns=SmilesColumns(**smk.params.columns),
        )
        log.info("counts %s", counts)


# The guard matters: the spawn-started xTB workers re-import this file as __mp_main__.
if __name__ == "__main__":
    main(snakemake)
