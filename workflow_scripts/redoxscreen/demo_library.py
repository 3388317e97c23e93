"""A deterministic library of redox-active organic molecules that the project labels itself.

The demo data set of the workflow is made here rather than downloaded: substituted derivatives
of well-known redox-active cores, labelled with xTB (``redoxscreen.xtb``). Cores, in order:

* acceptors (reducible, useful for the EA / negolyte side): 1,4-benzoquinone,
  1,2-benzoquinone, 1,4-naphthoquinone, 9,10-anthraquinone, phenazine, quinoxaline,
  4,4'-bipyridine (the neutral parent of the viologens), phthalimide, 1,8-naphthalimide,
  naphthalene diimide, 2,1,3-benzothiadiazole, fluorenone, benzophenone, alloxazine (the flavin
  core);
* donors (oxidisable, useful for the IE / posolyte and redox-shuttle side): phenothiazine
  (N-H, N-methyl, N-ethyl), phenoxazine (N-methyl), carbazole (N-H, N-methyl), dibenzofuran,
  thianthrene, triphenylamine, 1,4-dimethoxybenzene, tetrathiafulvalene, pyrene.

Substituents are H, CH3, OCH3, OH, NH2, F, Cl, CN, NO2, COOH and CF3, placed on marked core
positions: the unsubstituted parent, mono-substitution, symmetric di- (or tri-/tetra-)
substitution with one substituent, and asymmetric di-substitution with two different ones.

What is left out, and why: every molecule is neutral and closed-shell, because the xTB labels
(``redoxscreen.xtb``) compute the neutral with charge 0 and no unpaired electron and the ions
as doublets. Charged species (the viologen dications, N-alkyl pyridinium salts) and radicals
(TEMPO and other nitroxides) would need another electronic-state set-up, so they are not
enumerated; the neutral 4,4'-bipyridine stands in for the viologens. The nitro group is written
charge-separated (``[N+](=O)[O-]``) as RDKit requires; its net charge is zero.

Molecules are built from SMILES templates whose substitution sites are atom-mapped dummies
(``[*:1]`` ...). Each site is joined to a substituent fragment with :func:`rdkit.Chem.molzip`
(hydrogen is a ``[*:n][H]`` fragment, removed afterwards). The result is sanitised, checked
(neutral, one fragment, elements H B C N O F Si P S Cl Br I) and canonicalised; a canonical
SMILES already seen is skipped, so ids ``demo-0001``, ``demo-0002`` ... follow the first
appearance in the fixed enumeration order and are stable from run to run.

Command line (from the repository root)::

    PYTHONPATH=workflow_scripts python -m redoxscreen.demo_library resources/demo_library.smi
"""

from __future__ import annotations

import argparse
import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rdkit import Chem, RDLogger

from redoxscreen.tables import atomic_path

#: Substituent fragments, attachment point first, in enumeration order.
SUBSTITUENTS: dict[str, str] = {
    "CH3": "C",
    "OCH3": "OC",
    "OH": "O",
    "NH2": "N",
    "F": "F",
    "Cl": "Cl",
    "CN": "C#N",
    "NO2": "[N+](=O)[O-]",
    "COOH": "C(=O)O",
    "CF3": "C(F)(F)F",
}

ALLOWED_ELEMENTS = frozenset({"H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Br", "I"})

#: Unordered pairs of different substituents, for asymmetric di-substitution.
ALL_PAIRS: tuple[tuple[str, str], ...] = tuple(itertools.combinations(SUBSTITUENTS, 2))

#: Donor-acceptor ("push-pull") pairs: a smaller asymmetric set for the less central cores.
PUSH_PULL_PAIRS: tuple[tuple[str, str], ...] = tuple(
    itertools.product(("CH3", "OCH3", "NH2"), ("F", "CN", "NO2", "CF3"))
)


Asymmetric = tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Core:
    """A core SMILES template with mapped dummy sites and the substitution patterns to use.

    ``symmetric`` lists groups of sites that carry the same substituent at once (a group of
    one site is mono-substitution); ``asymmetric`` lists (group, group, pairs) entries: the two
    groups carry two different substituents, each pair of ``pairs`` in both orders. Unused
    sites carry hydrogen.
    """

    name: str
    template: str
    symmetric: tuple[tuple[int, ...], ...]
    asymmetric: tuple[Asymmetric, ...] = ()


def _with_nitrogen(template: str, groups: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(label, template.replace("{R}", r)) for label, r in groups]


def _cores() -> list[Core]:
    cores = [
        # 1,4-benzoquinone: sites 2, 3, 5, 6
        Core(
            "1,4-benzoquinone",
            "O=C1C([*:1])=C([*:2])C(=O)C([*:3])=C1[*:4]",
            symmetric=((1,), (1, 2), (1, 3), (1, 4), (1, 2, 3, 4)),
            asymmetric=(
                ((1,), (2,), ALL_PAIRS),
                ((1,), (3,), ALL_PAIRS),
                ((1, 2), (3, 4), ALL_PAIRS),
            ),
        ),
        # 1,2-benzoquinone: sites 4, 5
        Core(
            "1,2-benzoquinone",
            "O=C1C=C([*:1])C([*:2])=CC1=O",
            symmetric=((1,), (1, 2)),
        ),
        # 1,4-naphthoquinone: quinoid 2, 3; benzo 5, 6, 7, 8
        Core(
            "1,4-naphthoquinone",
            "O=C1C([*:1])=C([*:2])C(=O)c2c([*:3])c([*:4])c([*:5])c([*:6])c12",
            symmetric=((1,), (3,), (4,), (1, 2), (3, 6), (4, 5)),
            asymmetric=(((1,), (2,), ALL_PAIRS), ((1,), (4,), PUSH_PULL_PAIRS)),
        ),
        # 9,10-anthraquinone: 1, 2, 3, 4 on one ring, 5, 6, 7, 8 on the other
        Core(
            "9,10-anthraquinone",
            "O=C1c2c([*:1])c([*:2])c([*:3])c([*:4])c2C(=O)c2c([*:5])c([*:6])c([*:7])c([*:8])c12",
            symmetric=(
                (1,),
                (2,),
                (1, 4),
                (1, 5),
                (1, 8),
                (2, 3),
                (2, 6),
                (2, 7),
                (1, 2),
                (1, 4, 5, 8),
            ),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS), ((2,), (6,), ALL_PAIRS)),
        ),
    ]
    # phenothiazine / phenoxazine: site 1 = position 3 (para to N), 2 = position 7, 3 = position 2
    for label, template in _with_nitrogen(
        "{R}N1c2cc([*:3])c([*:1])cc2Sc2cc([*:2])ccc21",
        (("N-H", "[H]"), ("N-methyl", "C"), ("N-ethyl", "CC")),
    ):
        cores.append(
            Core(
                f"phenothiazine {label}",
                template,
                symmetric=((1,), (3,), (1, 2)),
                asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
            )
        )
    cores.append(
        Core(
            "phenoxazine N-methyl",
            "CN1c2cc([*:3])c([*:1])cc2Oc2cc([*:2])ccc21",
            symmetric=((1,), (3,), (1, 2)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        )
    )
    cores += [
        # phenazine: sites 2, 3 on one ring, 7, 8 on the other
        Core(
            "phenazine",
            "c1c([*:1])c([*:2])cc2nc3cc([*:3])c([*:4])cc3nc12",
            symmetric=((1,), (1, 2), (1, 3), (1, 4), (1, 2, 3, 4)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # quinoxaline: 2, 3 on the pyrazine ring, 6, 7 on the benzo ring
        Core(
            "quinoxaline",
            "c1c([*:3])c([*:4])cc2nc([*:1])c([*:2])nc12",
            symmetric=((1,), (3,), (1, 2), (3, 4)),
            asymmetric=(((1,), (2,), ALL_PAIRS), ((1, 2), (3, 4), PUSH_PULL_PAIRS)),
        ),
        # 4,4'-bipyridine: 1 = 2, 2 = 2', 3 = 3, 4 = 6 (same ring as 1)
        Core(
            "4,4'-bipyridine",
            "c1([*:1])nc([*:4])cc(-c2cc([*:2])ncc2)c1[*:3]",
            symmetric=((1,), (3,), (1, 2), (1, 4)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
    ]
    # carbazole: site 1 = position 3, 2 = position 6 (both para to N)
    for label, template in _with_nitrogen(
        "{R}n1c2ccc([*:1])cc2c2cc([*:2])ccc21", (("N-H", "[H]"), ("N-methyl", "C"))
    ):
        cores.append(
            Core(
                f"carbazole {label}",
                template,
                symmetric=((1,), (1, 2)),
                asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
            )
        )
    # phthalimide: sites 4 (1), 5 (2), 6 (3), 7 (4)
    for label, template in _with_nitrogen(
        "O=C1N({R})C(=O)c2c([*:1])c([*:2])c([*:3])c([*:4])c21", (("N-H", "[H]"), ("N-methyl", "C"))
    ):
        cores.append(
            Core(
                f"phthalimide {label}",
                template,
                symmetric=((1,), (2,), (2, 3), (1, 4)),
                asymmetric=(((2,), (3,), PUSH_PULL_PAIRS),),
            )
        )
    # 1,8-naphthalimide: site 1 = position 4, 2 = position 3
    for label, template in _with_nitrogen(
        "O=C1N({R})C(=O)c2cc([*:2])c([*:1])c3cccc1c23", (("N-H", "[H]"), ("N-methyl", "C"))
    ):
        cores.append(Core(f"1,8-naphthalimide {label}", template, symmetric=((1,), (2,))))
    cores += [
        # N,N'-dimethyl naphthalene diimide: core positions 2 (1) and 6 (2)
        Core(
            "naphthalene diimide N,N'-dimethyl",
            "CN1C(=O)c2cc([*:1])c3c4c(cc([*:2])c(c24)C1=O)C(=O)N(C)C3=O",
            symmetric=((1,), (1, 2)),
        ),
        # dibenzofuran: 1 = position 2, 2 = position 8, 3 = position 3, 4 = position 7
        Core(
            "dibenzofuran",
            "c1c([*:3])c([*:1])cc2c1oc1cc([*:4])c([*:2])cc12",
            symmetric=((1,), (3,), (1, 2), (3, 4)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # thianthrene: 1 = position 2, 2 = position 7, 3 = position 3, 4 = position 8
        Core(
            "thianthrene",
            "c1c([*:1])c([*:3])cc2Sc3cc([*:2])c([*:4])cc3Sc12",
            symmetric=((1,), (1, 2), (1, 4), (1, 3)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # triphenylamine: para positions of the three rings
        Core(
            "triphenylamine",
            "c1cc([*:1])ccc1N(c1ccc([*:2])cc1)c1ccc([*:3])cc1",
            symmetric=((1,), (1, 2), (1, 2, 3)),
            asymmetric=(((1,), (2,), ALL_PAIRS), ((1, 2), (3,), PUSH_PULL_PAIRS)),
        ),
        # 2,1,3-benzothiadiazole: 1 = position 4, 2 = position 7, 3 = 5, 4 = 6
        Core(
            "2,1,3-benzothiadiazole",
            "c1([*:1])c([*:3])c([*:4])c([*:2])c2nsnc12",
            symmetric=((1,), (3,), (1, 2), (3, 4)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # fluorenone: 1 = position 2, 2 = position 7, 3 = position 3, 4 = position 6
        Core(
            "fluorenone",
            "O=C1c2cc([*:1])c([*:3])cc2-c2cc([*:4])c([*:2])cc21",
            symmetric=((1,), (3,), (1, 2), (3, 4)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # benzophenone: para (1, 2) and meta (3) positions
        Core(
            "benzophenone",
            "O=C(c1ccc([*:1])cc1)c1ccc([*:2])c([*:3])c1",
            symmetric=((1,), (3,), (1, 2)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # alloxazine (flavin core): positions 7 (1) and 8 (2)
        Core(
            "alloxazine",
            "O=c1[nH]c(=O)c2nc3cc([*:1])c([*:2])cc3nc2[nH]1",
            symmetric=((1,), (2,), (1, 2)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # 1,4-dimethoxybenzene (redox-shuttle core): positions 2 (1), 5 (2), 3 (3)
        Core(
            "1,4-dimethoxybenzene",
            "COc1c([*:1])c([*:3])c(OC)c([*:2])c1",
            symmetric=((1,), (1, 2), (1, 3)),
            asymmetric=(((1,), (2,), PUSH_PULL_PAIRS),),
        ),
        # tetrathiafulvalene: 4 (1), 5 (2), 4' (3), 5' (4)
        Core(
            "tetrathiafulvalene",
            "C1([*:1])=C([*:2])SC(S1)=C1SC([*:3])=C([*:4])S1",
            symmetric=((1,), (1, 2), (1, 3), (1, 2, 3, 4)),
        ),
        # pyrene: 1 (1), 6 (2), 8 (3), 2 (4), 7 (5)
        Core(
            "pyrene",
            "c1([*:4])c([*:1])c2ccc3c([*:3])c([*:5])c([*:2])c4ccc(c1)c2c34",
            symmetric=((1,), (4,), (1, 2), (1, 3), (4, 5)),
        ),
    ]
    return cores


def _fragment(site: int, substituent: str | None) -> str:
    if substituent is None:
        return f"[*:{site}][H]"
    return f"[*:{site}]{SUBSTITUENTS[substituent]}"


def _build(template: str, assignment: dict[int, str]) -> Chem.Mol:
    """Join every mapped site of ``template`` to its substituent (hydrogen when unassigned)."""
    core = Chem.MolFromSmiles(template)
    if core is None:
        raise ValueError(f"cannot parse core template {template!r}")
    sites = sorted(atom.GetAtomMapNum() for atom in core.GetAtoms() if atom.GetAtomicNum() == 0)
    unknown = set(assignment) - set(sites)
    if unknown:
        raise ValueError(f"template {template!r} has no sites {sorted(unknown)}")
    fragments = ".".join(_fragment(site, assignment.get(site)) for site in sites)
    parts = Chem.MolFromSmiles(f"{template}.{fragments}", sanitize=False)
    joined = Chem.molzip(parts)
    molecule = Chem.RemoveHs(joined)
    Chem.SanitizeMol(molecule)
    return molecule


def check_molecule(molecule: Chem.Mol) -> None:
    """Raise ``ValueError`` unless the molecule is neutral, closed-shell, one fragment and
    made of the allowed elements."""
    smiles = Chem.MolToSmiles(molecule)
    if Chem.GetFormalCharge(molecule) != 0:
        raise ValueError(f"{smiles}: net charge {Chem.GetFormalCharge(molecule)}")
    if len(Chem.GetMolFrags(molecule)) != 1:
        raise ValueError(f"{smiles}: more than one fragment")
    if any(atom.GetNumRadicalElectrons() for atom in molecule.GetAtoms()):
        raise ValueError(f"{smiles}: radical")
    elements = {atom.GetSymbol() for atom in molecule.GetAtoms()}
    if not elements <= ALLOWED_ELEMENTS:
        raise ValueError(f"{smiles}: elements {sorted(elements - ALLOWED_ELEMENTS)} not allowed")


def _assignments(core: Core) -> Iterator[dict[int, str]]:
    yield {}
    for group in core.symmetric:
        for substituent in SUBSTITUENTS:
            yield dict.fromkeys(group, substituent)
    for first_group, second_group, pairs in core.asymmetric:
        for first, second in pairs:
            for a, b in ((first, second), (second, first)):
                assignment = dict.fromkeys(first_group, a)
                assignment.update(dict.fromkeys(second_group, b))
                yield assignment


def enumerate_demo_library() -> list[tuple[str, str]]:
    """Return ``(id, canonical SMILES)`` for every unique molecule, in enumeration order."""
    seen: set[str] = set()
    smiles_list: list[str] = []
    RDLogger.DisableLog("rdApp.*")
    try:
        for core in _cores():
            for assignment in _assignments(core):
                molecule = _build(core.template, assignment)
                check_molecule(molecule)
                smiles = Chem.MolToSmiles(molecule)
                if smiles not in seen:
                    seen.add(smiles)
                    smiles_list.append(smiles)
    finally:
        RDLogger.EnableLog("rdApp.*")
    width = max(4, len(str(len(smiles_list))))
    return [(f"demo-{number:0{width}d}", smiles) for number, smiles in enumerate(smiles_list, 1)]


def write_smiles_file(path: str | os.PathLike) -> int:
    """Write the library as ``SMILES id`` lines (atomically); return the number of molecules."""
    molecules = enumerate_demo_library()
    lines = [
        f"# redoxscreen demo library: {len(molecules)} molecules "
        "(python -m redoxscreen.demo_library)"
    ]
    lines += [f"{smiles} {molecule_id}" for molecule_id, smiles in molecules]
    with atomic_path(path) as temporary:
        temporary.write_text("\n".join(lines) + "\n")
    return len(molecules)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m redoxscreen.demo_library",
        description="Write the redoxscreen demo library of redox-active molecules as SMILES.",
    )
    parser.add_argument("output", help="SMILES file to write (SMILES id per line)")
    arguments = parser.parse_args(argv)
    count = write_smiles_file(arguments.output)
    print(f"wrote {count} molecules to {arguments.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
