rule summarize_run:
    localrule: True  # seconds of work: on a cluster it runs here, not through the queue
    input:
        metrics=expand("results/final/{target}/metrics.json", target=TARGETS),
        selected=expand("results/grid/{target}/selected.yaml", target=TARGETS),
        mae_tables=expand("results/grid/{target}/mae_table.tsv", target=TARGETS),
        counts=screening_counts(),
        library_counts=library_outputs(),
        code=package_files("summary", "features", "screening", "potentials", "rulelog", "tables"),
    output:
        summary=report(
            "results/summary.md",
            caption="report/summary.rst",
            category="Summary",
        ),
    log:
        "logs/summarize_run/summary.log",
    params:
        targets=TARGETS,
        libraries=list(config["screen"]),
        # the summary marks the windows that the collector caps (counts.tsv holds the rest)
        collector_max_v=config["screening"]["collector_max_v"],
    conda:
        "../envs/redoxscreen.yaml"
    script:
        "../workflow_scripts/summarize_run.py"
