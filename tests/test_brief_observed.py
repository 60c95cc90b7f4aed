"""``dialogue brief --observed``: a brief of the forecast updated on what has happened since."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from model import simulate
from model.brief.content import judgments, pct
from model.cli import main
from model.observations import load_observations, window
from model.smc import report

EXAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "observations" / "example-2013.toml"
RUNS, SEED = 200, 7
ARGS = ["--runs", str(RUNS), "--seed", str(SEED), "--sensitivity-runs", "60", "--sobol-n", "64", "--format", "png"]


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("obs") / "brief"
    assert main(["brief", "baseline", "--observed", str(EXAMPLE), "--out", str(out), *ARGS]) == 0
    return out


@pytest.fixture(scope="module")
def datasets():
    prior = simulate("baseline", runs=RUNS, seed=SEED)
    post = simulate("baseline", runs=RUNS, seed=SEED, observations=EXAMPLE)
    return prior, post


def _page(pack: Path) -> tuple[str, str]:
    import pypdf

    text = " ".join(pypdf.PdfReader(pack / "brief.pdf").pages[0].extract_text().split())
    return text, html.unescape((pack / "brief.html").read_text(encoding="utf-8"))


def test_updated_line_names_the_observations_and_last_month(pack):
    obs = load_observations(EXAMPLE)
    last = max(window(ob, "2013-03")[1] for ob in obs.entries)  # "2013-12"
    month = {"2013-12": "Dec 2013"}[last]
    want = f"Updated on {len(obs)} observations through {month}"
    pdf, page = _page(pack)
    assert want in page and want in pdf
    rec = json.loads((pack / "brief.json").read_text())
    assert rec["settings"]["observed"] == str(EXAMPLE)
    assert rec["observed"]["observations"] == len(obs) and rec["observed"]["through"] == last
    assert [e["source"] for e in rec["observed"]["entries"]] == [ob.source for ob in obs.entries]


def test_prior_to_posterior_line_matches_the_datasets(pack, datasets):
    prior, post = datasets
    before, after = judgments(prior), judgments(post)
    assert [j.key for j in before][:3] == [j.key for j in after][:3]
    by_key = {j.key: j.p for j in before}
    parts = []
    for i, j in enumerate(after, 1):
        p0 = by_key.get(j.key)
        if p0 is None:  # the likeliest event differs: the posterior's event, read on the prior
            from model.analysis import event_flags

            p0 = float(event_flags(prior)[j.key[6:]].isel(time=-1).values.mean())
        parts.append(f"({i}) {pct(p0)} \u2192 {pct(j.p)}")
    line = "Key judgments, prior \u2192 posterior: " + "; ".join(parts) + "."
    pdf, page = _page(pack)
    assert line in page
    assert line.replace("\u2192", "").split(":")[0] in pdf.replace("\u2192", "")
    rec = json.loads((pack / "brief.json").read_text())["observed"]
    for j in after:
        assert rec["judgments"][j.key]["posterior"] == pytest.approx(j.p, abs=1e-12)
    # The judgments themselves are the posterior's.
    assert [r["p"] for r in json.loads((pack / "brief.json").read_text())["judgments"]] == \
        pytest.approx([j.p for j in after], abs=1e-12)
    # The shift in the assumptions is model.smc.report's.
    rep = report(prior, post)
    assert rec["favoured"] == rep.favoured
    if rep.favoured:
        assert "The news favours" in page or "Assumptions the news favours: brief.json" in page
    else:
        assert "No assumption moved clearly beyond Monte Carlo noise" in page


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("dialogue: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("text,want", [
    ('[[observation]]\nevent = "expulsions"\nmonth = "2013-05"\nsource = "x"\n', "unknown event 'expulsions'"),
    ('[[observation]]\nevent = "formula"\nmonth = "2012-05"\nsource = "x"\n', "before the scenario's start month"),
    ('[[observation]]\nvariable = "protest"\nmonth = "2013-06"\nvalue = 0.1\nsd = 0\nsource = "x"\n',
     "not a valid error"),
    ('[[observation]]\nevent = "sanctions"\nmonth = "2013-03"\nsource = "Invented for illustration"\n',
     "no simulated future matches 'sanctions in 2013-03'"),
])
def test_bad_observed_file_one_line_nothing_written(tmp_path, capsys, text, want):
    f = tmp_path / "obs.toml"
    f.write_text(text)
    out = tmp_path / "brief"
    msg = _one_line_error(capsys, ["brief", "baseline", "--observed", str(f), "--out", str(out), *ARGS])
    assert want in msg, msg
    assert not out.exists() and not list(tmp_path.glob(".brief*"))


def test_observed_with_results_file_is_refused(tmp_path, capsys):
    out = tmp_path / "brief"
    res = tmp_path / "r.nc"
    res.write_bytes(b"")
    msg = _one_line_error(capsys, ["brief", "--from", str(res), "--observed", str(EXAMPLE), "--out", str(out)])
    assert "cannot apply to --from" in msg and not out.exists()
