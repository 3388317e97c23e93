"""Rule predict_library: a SMILES library predicted in chunks, one Parquet part per chunk."""

from redoxscreen.final_record import MODELS_RECORD
from redoxscreen.predict import configure_threads, predict_smiles_file
from redoxscreen.rulelog import rule_log
from redoxscreen.tables import SmilesColumns


def main(smk) -> None:
    with rule_log(smk.log[0]) as log:
        # the job's threads are worker processes that standardize and fingerprint the next
        # chunk; TensorFlow predicts on one thread (as fast on 2 cores; its default: every core)
        configure_threads(1)
        counts = predict_smiles_file(
            smk.input.smiles,
            model_dirs=dict(smk.params.model_dirs),
            out_dir=smk.output.parts,
            chunk_size=smk.config["predict"]["chunk_size"],
            processes=smk.threads,
            columns=SmilesColumns(**smk.params.columns),
            largest_fragment=smk.params.largest_fragment,
            neutralize=smk.params.neutralize,
            similarity=smk.params.similarity,
            # what the models are, not their evaluation: screen_library computes half-widths
            # and volts at the run's level and offsets
            record=MODELS_RECORD,
        )
        log.info("counts %s", counts)


# The guard matters: spawn-started workers re-import this file as __mp_main__.
if __name__ == "__main__":
    main(snakemake)
