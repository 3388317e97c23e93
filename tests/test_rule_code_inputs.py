"""Every rule lists, as input.code, the package modules that its script imports when it starts.

An edit of such a module reruns the rule's jobs only where the rule lists it (package_files).
Modules imported inside a function may be listed or not: the rule's author knows whether the
job runs them. Read from the rules' and scripts' source, without Snakemake.
"""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "workflow_scripts" / "redoxscreen"
RULE = re.compile(r"^(?:rule|checkpoint) (\w+):\n(.*?)(?=^\S|\Z)", re.M | re.S)


def rule_sources() -> dict[str, str]:
    """Each rule's name and source text, from rules/*.smk."""
    return {
        name: body
        for path in sorted((REPO / "rules").glob("*.smk"))
        for name, body in RULE.findall(path.read_text())
    }


def declared_modules(body: str) -> set[str]:
    listed = re.search(r"package_files\(([^)]*)\)", body)
    return set(re.findall(r'"(\w+)"', listed.group(1))) if listed else set()


def script_path(body: str) -> Path | None:
    script = re.search(r'script:\s*"([^"]+)"', body)
    return (REPO / "rules" / script.group(1)).resolve() if script else None


def imported_at_start(path: Path) -> set[str]:
    """The package modules a file imports at its top level (not inside a function)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module == "redoxscreen":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("redoxscreen."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {
                alias.name.split(".")[1]
                for alias in node.names
                if alias.name.startswith("redoxscreen.")
            }
    return {module for module in found if (PACKAGE / f"{module}.py").exists()}


def loaded_modules(script: Path) -> set[str]:
    """The package modules that importing ``script`` loads, through one another."""
    loaded, waiting = set(), list(imported_at_start(script))
    while waiting:
        module = waiting.pop()
        if module not in loaded:
            loaded.add(module)
            waiting += imported_at_start(PACKAGE / f"{module}.py")
    return loaded


SCRIPTED = {name: body for name, body in rule_sources().items() if script_path(body)}


def test_the_rules_are_found():
    assert {"ingest", "train_grid_fold", "predict_library", "screen_library"} <= set(SCRIPTED)


@pytest.mark.parametrize("rule", sorted(SCRIPTED))
def test_a_rule_lists_every_module_its_script_loads(rule):
    body = SCRIPTED[rule]
    missing = loaded_modules(script_path(body)) - declared_modules(body)
    assert not missing, f"rule {rule}: add {sorted(missing)} to its package_files(...)"
