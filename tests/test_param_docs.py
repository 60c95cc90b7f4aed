"""docs/parameters.md is generated from the registry and must not go stale."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_parameter_docs_are_current():
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_param_docs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert (ROOT / "docs" / "parameters.md").read_text() == gen.render(), \
        "docs/parameters.md is stale: run python scripts/gen_param_docs.py"
