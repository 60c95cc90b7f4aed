"""Run ``mutmut run`` on chosen modules only (called by scripts/mutation.sh).

mutmut 3 reads its settings from setup.cfg and, left alone, compiles mutants for every
file under ``model/`` on every change, which on this project is >10,000 mutants and
minutes of work before a test runs. Here its ``only_mutate`` setting is narrowed to the
modules asked for, so the other files are copied into ./mutants/ unmutated.

    python3 scripts/mutation_driver.py JOBS MODULE [MODULE ...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _patterns(modules: list[str]) -> list[str]:
    """mutmut's glob for each module path (a package means every file in it)."""
    return [f"{m.rstrip('/')}/*" if Path(m).is_dir() else m for m in modules]


def _mutant_globs(modules: list[str]) -> list[str]:
    """mutmut's mutant names are dotted module paths: model/agents -> model.agents.*"""
    return [m.rstrip("/").removesuffix(".py").replace("/", ".") + ".*" for m in modules]


def main(argv: list[str]) -> None:
    jobs, modules = argv[0], argv[1:]
    import mutmut.configuration as mc

    cfg = mc.config()
    cfg.only_mutate = _patterns(modules)
    # A file mutmut once copied unmutated looks "already generated" to it later (its copy
    # is newer than the source); remove such copies of the files we now want mutated.
    for src in [*Path("model").rglob("*.py"), *Path("dashboard").rglob("*.py")]:
        copy = Path("mutants") / src
        if cfg.should_mutate(src) and copy.exists() and "mutmut" not in copy.read_text():
            copy.unlink()
            Path(f"{copy}.meta").unlink(missing_ok=True)

    # mutmut caches which tests reach which function, and reuses the cache even when the
    # set of mutated files has changed (a file copied unmutated records no calls): the
    # new mutants would all be "no tests". Recording afresh costs one pass of the tests.
    Path("mutants/mutmut-stats.json").unlink(missing_ok=True)

    from mutmut.__main__ import cli

    # MUTATION_GLOBS narrows the run to some functions or to last run's survivors by name,
    # e.g. MUTATION_GLOBS="model.charts.x__relations_title*".
    globs = os.environ.get("MUTATION_GLOBS", "").split() or _mutant_globs(modules)
    sys.argv = ["mutmut", "run", "--max-children", jobs, *globs]
    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
