"""Write docs/parameters.md from the parameter registry (the single source).

Run after changing any ParamSpec: ``python scripts/gen_param_docs.py``.
tests/test_param_docs.py fails when the file is out of date.
"""

from __future__ import annotations

from pathlib import Path

from model.params import registry

OUT = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"


def render() -> str:
    lines = ["# Parameters", "",
             "Generated from `model/params.py` and the `PARAMS` of each actor by `scripts/gen_param_docs.py`;",
             "do not edit by hand. Headline drivers are marked **bold**. The distribution is shown at the",
             "default value; in a scenario it moves with the value (see `model/params.py`).", ""]
    group = None
    for name, s in registry().items():
        if s.group != group:
            group = s.group
            lines += [f"## {group}", "", "| name | label | units | range | default | uncertainty | source |",
                      "|---|---|---|---|---|---|---|"]
        nm = f"**`{name}`**" if s.headline else f"`{name}`"
        src = s.source.replace("|", "/")
        lines.append(f"| {nm} | {s.label} | {s.units} | [{s.low:g}, {s.high:g}] | {s.default:g} | "
                     f"{s.describe_dist()} | {src} |")
        nxt = list(registry().values())
        idx = [x.name for x in nxt].index(name)
        if idx + 1 == len(nxt) or nxt[idx + 1].group != group:
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")
