"""Every rule lists, as input.code, the package modules that its script loads when it starts,
and those that the modules it lists load when they start.

An edit of such a module reruns the rule's jobs only where the rule lists it (package_files).
A module imported inside a function is listed by the rule's author where the job runs it; what
that module loads in turn is then checked too. Read from the rules' and scripts' source,
without Snakemake.
"""

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "workflow_scripts" / "redoxscreen"
RULE_NAME = re.compile(r"^\s*(?:rule|checkpoint)\s+(\w+)\s*:", re.M)
# a rule's body: its indented lines, and lines at column 0 that are blank or comments
RULE = re.compile(r"^(?:rule|checkpoint)\s+(\w+)\s*:[^\n]*\n(.*?)(?=^(?!#)\S|\Z)", re.M | re.S)
WORKFLOW_FILES = [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]


def rule_sources() -> dict[str, str]:
    """Each rule's name and source text, from the Snakefile and rules/*.smk."""
    return {name: body for path in WORKFLOW_FILES for name, body in RULE.findall(path.read_text())}


def declared_modules(body: str) -> set[str]:
    listed = re.search(r"package_files\(([^)]*)\)", body)
    return set(re.findall(r'"(\w+)"', listed.group(1))) if listed else set()


def script_path(body: str) -> Path | None:
    script = re.search(r"^\s*script:\s*(['\"])(.+?)\1", body, re.M)
    return (REPO / "rules" / script.group(2)).resolve() if script else None


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


def loaded_modules(*paths: Path) -> set[str]:
    """The package modules that importing the ``paths`` loads, through one another."""
    loaded, waiting = set(), [module for path in paths for module in imported_at_start(path)]
    while waiting:
        module = waiting.pop()
        if module not in loaded:
            loaded.add(module)
            waiting += imported_at_start(PACKAGE / f"{module}.py")
    return loaded


RULES = rule_sources()
SCRIPTED = {name: body for name, body in RULES.items() if script_path(body)}


def test_every_rule_is_read_and_every_script_found():
    named = {name for path in WORKFLOW_FILES for name in RULE_NAME.findall(path.read_text())}
    assert set(RULES) == named
    for name, body in RULES.items():  # a rule says script: only with a path that is read
        assert ("script:" in body) == (name in SCRIPTED), name
    assert {"ingest", "train_grid_fold", "predict_library", "screen_library"} <= set(SCRIPTED)


@pytest.mark.parametrize("rule", sorted(SCRIPTED))
def test_a_rule_lists_every_module_its_script_and_its_modules_load(rule):
    body = SCRIPTED[rule]
    declared = declared_modules(body)
    listed = [PACKAGE / f"{module}.py" for module in declared]
    missing = loaded_modules(script_path(body), *listed) - declared
    assert not missing, f"rule {rule}: add {sorted(missing)} to its package_files(...)"


def test_a_comment_or_a_single_quoted_script_hides_no_rule(tmp_path):
    text = (
        "rule one:  # a comment after the header\n    input:\n# a comment at column 0\n"
        "    script:\n        '../workflow_scripts/ingest.py'\n\nrule two:\n    shell: 'true'\n"
    )
    bodies = dict(RULE.findall(text))
    assert set(bodies) == {"one", "two"}
    assert script_path(bodies["one"]) == REPO / "workflow_scripts" / "ingest.py"
    assert script_path(bodies["two"]) is None
