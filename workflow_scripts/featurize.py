"""Rule featurize: one Morgan fingerprint store shared by every model that uses it."""

from redoxscreen.features import FingerprintSpec, featurize_table
from redoxscreen.rulelog import rule_log


def main(smk) -> None:
    with rule_log(smk.log[0]):
        spec = FingerprintSpec(
            radius=int(smk.wildcards.radius),
            n_bits=int(smk.wildcards.n_bits),
            kind=smk.wildcards.kind,
        )
        featurize_table(smk.input.molecules, smk.output.store, spec, smk.threads)


# The guard matters: the spawn-started workers re-import this file as __mp_main__.
if __name__ == "__main__":
    main(snakemake)
