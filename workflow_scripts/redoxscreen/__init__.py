"""redoxscreen: learn ionization energy and electron affinity from molecular structure.

Modules import downward only: ``chemistry``, ``tables`` and ``features`` know nothing of
Keras or Snakemake; ``training`` and ``screening`` build on them; the per-rule scripts in
``workflow_scripts/`` and ``cli`` sit on top.
"""

__version__ = "0.1.0"
