"""Every number a chart title, a brief sentence or the terminal summary states is
checked here against the same quantity computed independently from the raw
ensemble (numpy on the Dataset's arrays; no helper of the code under test)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from model import charts, load_scenario, simulate, summarize
from model.agents.relations import DRIVER_LABELS, DRIVERS

MINUS = "\u2212"
NUM = r"[+\u2212-]?\d+(?:\.\d+)?"
# The published yardstick, typed out again here (not imported), with its gaps.
TERMS = [("remote chance", 0, 5), ("highly unlikely", 10, 20), ("unlikely", 25, 35),
         ("realistic possibility", 40, 50), ("likely", 55, 75), ("highly likely", 80, 90),
         ("almost certain", 95, 100)]
BANDS = [("hostile", -10, -6), ("confrontational", -6, -2), ("cool", -2, 2), ("constructive", 2, 6),
         ("partnership", 6, 10)]
ONS_2012 = 4791.0  # GBP m, UK goods exports to Russia in 2012 (shared/data)


def num(text: str) -> float:
    return float(text.replace(MINUS, "-"))


def term_for(pct: float) -> str:
    """The yardstick wording for a percentage, from the table above."""
    for i, (term, lo, hi) in enumerate(TERMS):
        if lo <= pct <= hi:
            return term
        if pct < TERMS[i + 1][1]:
            return f"between {term} and {TERMS[i + 1][0]}"
    raise AssertionError(pct)


def band(x: float) -> str:
    return next(name for name, _lo, hi in BANDS if x <= hi)


def title(fig) -> str:
    return fig.get_suptitle().replace("\n", " ")


def close(stated: float, exact: float, digits: int) -> bool:
    """A number printed with ``digits`` decimals states ``exact``."""
    return abs(stated - exact) <= 0.5 * 10 ** -digits + 1e-9


@pytest.fixture(scope="module")
def ds():
    return simulate(load_scenario("baseline"), runs=400, seed=3)


@pytest.fixture(scope="module")
def other():
    return simulate(load_scenario("crackdown"), runs=400, seed=3)


@pytest.fixture(scope="module")
def end(ds):
    return ds["relations"].values[:, -1].astype(float)


def test_term_for_is_the_published_gap_wording():
    assert term_for(94) == "between highly likely and almost certain"
    assert term_for(7) == "between remote chance and highly unlikely"
    assert term_for(53) == "between realistic possibility and likely"
    assert term_for(50) == "realistic possibility" and term_for(95) == "almost certain"


@pytest.mark.parametrize("pct", [0, 3, 5, 5.1, 7, 9.9, 10, 20, 22.5, 35, 37.5, 40, 50, 52.5, 53, 55, 77.5, 80,
                                 90, 92.5, 94, 94.9, 95, 100])
def test_phia_wording_never_uses_a_term_whose_range_excludes_the_number(pct):
    from model.analysis import fmt_prob, phia

    assert phia(pct / 100) == term_for(pct)
    # and the number as printed reads as the term printed beside it
    assert term_for(float(fmt_prob(pct / 100).rstrip("%"))) == phia(pct / 100)


def test_fmt_prob_prints_a_decimal_where_rounding_would_change_the_term():
    from model.analysis import fmt_prob

    assert fmt_prob(0.2049) == "20.5%"  # not "20%", which would read 'highly unlikely'
    assert fmt_prob(0.52) == "52%" and fmt_prob(0.07) == "7.0%"


def test_fan_title_states_median_start_and_the_80_percent_band(ds, end):
    t = title(charts.fan_chart(ds, size="a4"))
    m = re.search(rf"median ({NUM}), from ({NUM}); 80% of runs between ({NUM}) and ({NUM})", t)
    assert m, t
    med, start, lo, hi = (num(g) for g in m.groups())
    assert close(med, np.median(end), 1)
    assert close(start, ds.attrs["initial_relations"], 1)
    assert close(lo, np.quantile(end, 0.10), 1), "the band's bottom is the 10th percentile"
    assert close(hi, np.quantile(end, 0.90), 1), "the band's top is the 90th percentile"
    s0, s1 = band(ds.attrs["initial_relations"]), band(np.median(end))
    assert f"from {s0} in Mar 2013 to {s1} in Feb 2018" in t if s0 != s1 else f"still {s0} in Feb 2018" in t


def test_outcome_title_states_the_modal_class_and_confrontation_or_worse(ds):
    t = title(charts.outcome_chart(ds, size="a4"))
    out = ds["outcome"].values.astype(str)
    shares = {k: float((out == k).mean()) for k in ("rupture", "confrontation", "cool", "thaw")}
    modal = max(shares, key=shares.get)
    m = re.match(rf"(\w+) is the most likely outcome in Feb 2018 \(({NUM})%, ([a-z ]+)(\u2020?)\); confrontation or "
                 rf"worse ({NUM})% \(([a-z ]+)(\u2020?)\)", t)
    assert m, t
    assert m.group(1).lower() == modal
    assert close(num(m.group(2)), 100 * shares[modal], 0 if "." not in m.group(2) else 1)
    assert m.group(3) == term_for(100 * shares[modal])
    bad = 100 * (shares["rupture"] + shares["confrontation"])
    assert close(num(m.group(5)), bad, 0 if "." not in m.group(5) else 1)
    assert m.group(6) == term_for(bad)
    for share, dagger in ((shares[modal], m.group(4)), (bad / 100, m.group(7))):
        assert bool(dagger) == bool(_edges_crossed(share, np.sqrt(share * (1 - share) / out.size)))


def test_outcome_bar_labels_are_95_percent_intervals(ds):
    fig = charts.outcome_chart(ds, size="a4")
    out = ds["outcome"].values.astype(str)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for k in ("rupture", "confrontation", "cool", "thaw"):
        p = (out == k).mean()
        half = 100 * 1.96 * np.sqrt(p * (1 - p) / out.size)
        assert f"{100 * p:.1f}% \u00b1 {half:.1f}" in " ".join(texts), k


def test_waterfall_title_states_mean_median_and_the_two_largest_drivers(ds, end):
    t = title(charts.contributions_chart(ds, size="a4"))
    m = re.match(rf"Mean relations go from ({NUM}) in Mar 2013 to ({NUM}) in Feb 2018 \(the median run ends at "
                 rf"({NUM})\): (.+) \(({NUM})\) and (.+) \(({NUM})\) weighed most", t)
    assert m, t
    assert close(num(m.group(1)), ds.attrs["initial_relations"], 1)
    assert close(num(m.group(2)), end.mean(), 1)
    assert close(num(m.group(3)), np.median(end), 1)
    totals = {d: ds[f"contrib_{d}"].values.sum(axis=1).mean() for d in DRIVERS if d != "reversion"}
    top = sorted(totals, key=lambda d: -abs(totals[d]))[:2]
    for d, label, value in zip(top, (m.group(4), m.group(6)), (m.group(5), m.group(7)), strict=True):
        assert label.lower() == DRIVER_LABELS[d].lower()
        assert close(num(value), totals[d], 1)


def test_waterfall_rows_add_up_and_match_the_terminal_summary(ds, end):
    fig = charts.contributions_chart(ds, size="a4")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    values = [num(t.get_text()) for t in ax.texts if t.get_gid() == "waterfall-value"]
    assert labels[0] == "Start, Mar 2013" and labels[-1] == "Mean in Feb 2018"
    assert close(values[0], ds.attrs["initial_relations"], 2) and close(values[-1], end.mean(), 2)
    assert abs(sum(values[:-1]) - values[-1]) <= 0.005 * len(values)  # printed rows add up
    assert labels[-2] == DRIVER_LABELS["reversion"]
    # the terminal lists the same rows in the same order, with the same values
    text = summarize(ds).text()
    block = text.split("What moved relations")[1].splitlines()[1:len(labels) + 1]
    for line, label, value in zip(block, labels, values, strict=True):
        assert line.strip().startswith(label.replace("Mean in Feb 2018", "Mean in 2018-02")
                                       .replace("Start, Mar 2013", "Start, 2013-03")), (line, label)
        assert close(num(line.split()[-1]), value, 2)
    assert "drift" in text.split(DRIVER_LABELS["reversion"])[-1]  # the line is explained


def test_waterfall_values_never_sit_on_a_bar_and_stay_inside_the_figure(ds):
    fig = charts.contributions_chart(ds, size="a4")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    charts.figure_bytes(fig, "png")  # lays the figure out
    r = FigureCanvasAgg(fig).get_renderer()
    ax = fig.axes[0]
    bars = [p.get_window_extent(r) for p in ax.patches]
    fb = fig.bbox
    for t in ax.texts:
        bb = t.get_window_extent(r)
        assert not any(bb.overlaps(b) for b in bars), t.get_text()
        assert fb.x0 <= bb.x0 and bb.x1 <= fb.x1 and fb.y0 <= bb.y0 and bb.y1 <= fb.y1, t.get_text()


def test_stacked_title(ds):
    t = title(charts.contributions_chart(ds, "stacked", size="a4"))
    totals = {d: ds[f"contrib_{d}"].values.sum(axis=1).mean() for d in DRIVERS if d != "reversion"}
    top = max(totals, key=lambda d: abs(totals[d]))
    m = re.match(rf"By Feb 2018, (.+) has (cost|added to) relations ({NUM}) points on average, net of fading; "
                 rf"relations have moved ({NUM}) in all", t)
    assert m, t
    assert m.group(1).lower() == DRIVER_LABELS[top].lower()
    assert (m.group(2) == "cost") == (totals[top] < 0)
    assert close(num(m.group(3)), abs(totals[top]), 1)
    net = ds["relations"].values[:, -1].mean() - ds.attrs["initial_relations"]
    assert close(num(m.group(4)), net, 1)


def test_exports_title(ds):
    t = title(charts.exports_chart(ds, size="a4"))
    annual = ds["exports_gbp_m"].values[:, -1].astype(float) * 12
    m = re.match(rf"Exports to Russia: median annualised \u00a3({NUM})bn in Feb 2018, (\d+)% (above|below) 2012's "
                 rf"\u00a3({NUM})bn \(80% of runs \u00a3({NUM})bn to \u00a3({NUM})bn\)", t)
    assert m, t
    med = np.median(annual)
    assert close(num(m.group(1)), med / 1000, 1)
    assert close(float(m.group(2)), 100 * abs(med / ONS_2012 - 1), 0)
    assert (m.group(3) == "above") == (med > ONS_2012)
    assert close(num(m.group(4)), ONS_2012 / 1000, 1)
    assert close(num(m.group(5)), np.quantile(annual, 0.10) / 1000, 1)
    assert close(num(m.group(6)), np.quantile(annual, 0.90) / 1000, 1)


def _events(ds) -> dict[str, float]:
    """The key events, recomputed from the raw variables: expulsions count either side's round."""
    expelled = (ds["expulsions"].values > 0) | (ds["russian_expulsions"].values > 0)
    return {"dialogue suspended": float((~ds["dialogue_active"].values.astype(bool)).any(axis=1).mean()),
            "diplomats expelled": float(expelled.any(axis=1).mean()),
            "sanctions": float(ds["sanctions"].values.astype(bool).any(axis=1).mean()),
            "major incident on UK soil": float((ds["major_incidents"].values > 0).any(axis=1).mean()),
            "regime crisis in Russia": float(ds["regime_crisis"].values.astype(bool).any(axis=1).mean())}


def test_events_title_and_labels(ds):
    fig = charts.events_chart(ds, size="a4")
    t = title(fig)
    ev = _events(ds)
    first, last = max(ev, key=ev.get), min(ev, key=ev.get)
    m = re.match(rf"(.+) is the likeliest of the key events: ({NUM})% by Feb 2018 \((.+?)\); (.+) the least "
                 rf"likely at ({NUM})% \((.+)\)", t)
    assert m, t
    assert m.group(1).lower() == first and m.group(4) == last
    n = ds.sizes["run"]
    for value, term, key in ((m.group(2), m.group(3), first), (m.group(5), m.group(6), last)):
        assert close(num(value), 100 * ev[key], 1 if "." in value else 0)
        assert term.rstrip("\u2020") == term_for(100 * ev[key])
        assert term.endswith("\u2020") == bool(_edges_crossed(ev[key], np.sqrt(ev[key] * (1 - ev[key]) / n)))
    assert ("\u2020" in t) <= ("spans an edge" in fig._supxlabel.get_text().replace("\n", " "))


def test_events_leaders_do_not_run_past_the_horizon(ds):
    from matplotlib.dates import date2num

    fig = charts.events_chart(ds, size="a4")
    ax = fig.axes[0]
    horizon_x = date2num(charts._x(ds)[-1])
    for line in ax.get_lines():
        assert np.all(np.asarray(date2num(line.get_xdata())) <= horizon_x + 1e-9)
    leaders = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(leaders) == len(_events(ds))  # one per key event
    for a in leaders:
        # the leader starts in the margin (axes x >= 1) and is grey, unlike any data line
        assert a.xycoords[0] == "axes fraction" and a.xy[0] >= 1.0
        assert a.arrow_patch.get_edgecolor()[:3] == pytest.approx((0x88 / 255,) * 3, abs=0.01)


def test_trajectories_title(ds, end):
    t = title(charts.trajectories_chart(ds, size="a4"))
    m = re.search(rf"({NUM})% of runs turn confrontational or worse at some point, while the median ends at ({NUM})",
                  t)
    assert m, t
    assert close(num(m.group(1)), 100 * (ds["relations"].values <= -2).any(axis=1).mean(), 0)
    assert close(num(m.group(2)), np.median(end), 1)


def test_compare_title(ds, other):
    t = title(charts.compare_chart({"baseline": ds, "crackdown": other}, size="a4"))
    med = {n: np.median(d["relations"].values[:, -1]) for n, d in (("baseline", ds), ("crackdown", other))}
    bad = {n: np.isin(d["outcome"].values.astype(str), ["rupture", "confrontation"]).mean()
           for n, d in (("baseline", ds), ("crackdown", other))}
    best, worst = max(med, key=med.get), min(med, key=med.get)
    m = re.match(rf"'(\w+)' is the most hopeful scenario \(median ({NUM}) in Feb 2018, confrontation or worse "
                 rf"({NUM})%\) and '(\w+)' the bleakest \(({NUM}), ({NUM})%\)", t)
    assert m, t
    assert m.group(1) == best and m.group(4) == worst
    assert close(num(m.group(2)), med[best], 1) and close(num(m.group(5)), med[worst], 1)
    for v, n in ((m.group(3), best), (m.group(6), worst)):
        assert close(num(v), 100 * bad[n], 1 if "." in v else 0)


def test_vocabularies_are_explained_where_both_appear(ds):
    for fig in (charts.outcome_chart(ds, size="a4"), charts.fan_chart(ds, size="a4")):
        note = fig._supxlabel.get_text().replace("\n", " ")
        assert "rupture also counts" in note and "sanctions in force" in note
    assert "confrontation is the confrontational band" in charts.outcome_chart(ds, size="a4")._supxlabel.get_text() \
        .replace("\n", " ")


# ---------------------------------------------------------------- the brief's sentences

SOBOL_N = 128  # small, so the test is quick; the brief's default is 1024
TORNADO_RUNS = 60


@pytest.fixture(scope="module")
def content(ds):
    from model.brief.content import build_content

    return build_content([ds], ["baseline"], 60, SOBOL_N)


def _edges_crossed(p: float, se: float) -> list[float]:
    lo, hi = 100 * max(0.0, p - 1.96 * se), 100 * min(1.0, p + 1.96 * se)
    return [e for _t, a, b in TERMS for e in (a, b) if 0 < e < 100 and lo <= e <= hi
            and term_for(lo) != term_for(hi)]


def test_every_judgment_states_numbers_from_the_raw_ensemble(ds, end, content):
    out = ds["outcome"].values.astype(str)
    ev = _events(ds)
    top = max(ev, key=lambda k: (ev[k], k))
    annual = ds["exports_gbp_m"].values[:, -1].astype(float) * 12
    expect = {
        "confrontation_or_worse": np.isin(out, ["rupture", "confrontation"]).mean(),
        "worse_than_start": (end < ds.attrs["initial_relations"]).mean(),
        "rupture": (out == "rupture").mean(),
        f"event:{top}": ev[top],
        "exports_above_2012": (annual > ONS_2012).mean(),
    }
    from model.brief.render import judgment_lines

    lines = dict(zip([j.key for j in content.main.judgments], judgment_lines(content), strict=True))
    assert set(lines) == set(expect)
    for key, p in expect.items():
        line = lines[key]
        se = np.sqrt(p * (1 - p) / out.size)
        m = re.match(r"(It is|There is) (?:a )?(.+?) \((\d+(?:\.\d)?)%\) that ", line)
        assert m, line
        stated = float(m.group(3))
        assert close(stated, 100 * p, 1 if "." in m.group(3) else 0), (key, line)
        assert m.group(2) == term_for(100 * p) == term_for(stated), (key, line)
        b = re.search(rf"\[({NUM})% \u00b1 ({NUM})\]$", line)
        assert close(float(b.group(1)), 100 * p, 1) and close(float(b.group(2)), 100 * 1.96 * se, 1), line
        # states in the horizon month read 'in', events 'by'
        if key.startswith("event:"):
            assert "by Feb 2018" in line and "in Feb 2018" not in line
        else:
            assert "by Feb 2018" not in line and "in Feb 2018" in line
        crossed = _edges_crossed(p, se)
        assert ("spans the yardstick's" in line) == bool(crossed), line
        if crossed:
            stated_edges = re.search(r"spans the yardstick's (.+?) edges?", line).group(1)
            assert sorted(float(e) for e in re.findall(r"(\d+)%", stated_edges)) == sorted(crossed), line
    assert f"median {charts.fmt_pts(float(np.median(end)))}" in lines["worse_than_start"]


@pytest.fixture(scope="module")
def fresh_tornado():
    """The tornado computed here, with the brief's settings: P10/P90, the results'
    seed and horizon, the same runs."""
    from model.sensitivity import tornado

    return tornado(load_scenario("baseline"), output="confrontation_or_worse", runs=TORNADO_RUNS, low=0.1, high=0.9,
                   seed=3, horizon=60)


@pytest.fixture(scope="module")
def fresh_sobol():
    from model.sensitivity import run_sensitivity

    res = run_sensitivity(load_scenario("baseline"), method="sobol", n=SOBOL_N, outputs=["confrontation_or_worse"],
                          seed=3, horizon=60, by_year=False)
    return res.table


def test_tornado_rows_are_model_sensitivity_tornado_at_p10_and_p90(content, fresh_tornado):
    from model.brief.render import tornado_rows

    t = fresh_tornado
    uncertain = sum(st.dist != "fixed" for st in load_scenario("baseline").params.values())
    assert len(content.swings) == len(t) == uncertain  # every uncertain parameter, not four headline drivers
    got = [(s.param, s.low, s.high, s.p_low, s.p_high, s.base) for s in content.swings]
    assert got == list(t[["param", "low_value", "high_value", "out_low", "out_high", "base"]].itertuples(
        index=False, name=None))
    # ranked by swing, and the printed rows state those numbers
    swings = [abs(s.p_high - s.p_low) for s in content.swings]
    assert swings == sorted(swings, reverse=True)
    for row, (_, r) in zip(tornado_rows(content), t.iterrows(), strict=True):
        a, b = (float(x.rstrip("%")) for x in row[2].split(" \u2192 "))
        assert close(a, 100 * r["out_low"], 1 if "." in row[2].split()[0] else 0), row
        assert close(b, 100 * r["out_high"], 1 if "." in row[2].split()[-1] else 0), row
        assert num(row[3].split()[0]) == pytest.approx(b - a), row
    # the base is the results' own probability over the same random streams (common random numbers)
    first = np.isin(content.main.ds["outcome"].values[:TORNADO_RUNS].astype(str), ["rupture", "confrontation"])
    assert t["base"].iloc[0] == pytest.approx(first.mean())


def test_change_text_states_the_tornado_and_its_percentiles(content, fresh_tornado):
    text = content.change_text
    top, nxt = fresh_tornado.iloc[0], fresh_tornado.iloc[1:3]
    assert f"turns most on {charts.lower_first(top['label'])}" in text
    m = re.search(r"At its P10 \(([0-9.e-]+)\) .*? is (\d+(?:\.\d)?)% .*? at its P90 \(([0-9.e-]+)\) it is "
                  r"(\d+(?:\.\d)?)% .*?, (\d+(?:\.\d)?) points (higher|lower)", text)
    assert m, text
    assert float(m.group(1)) == pytest.approx(top["low_value"], rel=5e-3)
    assert float(m.group(3)) == pytest.approx(top["high_value"], rel=5e-3)
    lo, hi = float(m.group(2)), float(m.group(4))
    assert close(lo, 100 * top["out_low"], 1 if "." in m.group(2) else 0)
    assert close(hi, 100 * top["out_high"], 1 if "." in m.group(4) else 0)
    assert float(m.group(5)) == pytest.approx(abs(hi - lo)) and (m.group(6) == "higher") == (hi > lo)
    for _, r in nxt.iterrows():
        assert f"{charts.lower_first(r['label'])} " in text.split("Next:")[1]


def test_tornado_panel_on_the_page_shows_the_top_rows(content, fresh_tornado):
    from model.brief.content import TORNADO_TOP
    from model.brief.render import page_figure

    page = page_figure(content)
    charts.figure_bytes(page, "png")
    sub = next(s for s in page.subfigs if s._suptitle is not None and "P10 or P90" in s._suptitle.get_text())
    assert "P10" in sub._suptitle.get_text() and "P90" in sub._suptitle.get_text()  # stated on the chart
    ax = sub.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()][::-1]  # top bar first
    shown = int(re.search(rf"top (\d+) of {len(fresh_tornado)} assumptions", sub._suptitle.get_text()).group(1))
    assert 6 <= shown <= TORNADO_TOP  # bars give way (down to 6) before the charts shrink below 3.6 in
    top = fresh_tornado.head(shown)
    assert len(labels) == len(top)
    values = [t.get_text() for t in ax.texts if t.get_gid() == "tornado-value"]
    for i, (label, (_, r)) in enumerate(zip(labels, top.iterrows(), strict=True)):
        assert label.startswith(r["label"] + " ("), (label, r["label"])
        lo, hi = (values[2 * (len(top) - 1 - i)], values[2 * (len(top) - 1 - i) + 1])
        assert close(float(lo.rstrip("%")), 100 * r["out_low"], 1 if "." in lo else 0), (label, lo)
        assert close(float(hi.rstrip("%")), 100 * r["out_high"], 1 if "." in hi else 0), (label, hi)
    assert f"({round(100 * fresh_tornado['base'].iloc[0])}%)" in ax.get_xlabel()


def test_sobol_sentence_share_is_the_named_total_indices_from_the_table(content, fresh_sobol):
    t = fresh_sobol.sort_values("ST", ascending=False)
    text = content.change_text
    words = {"One": 1, "Two": 2, "Three": 3, "Four": 4, "Five": 5}
    m = re.search(r"(\w+) assumptions? carr(?:y|ies) (\d+)% of the uncertainty in P\(confrontation or worse\) "
                  r"in Feb 2018: (.+?)\.(?: On their own, all assumptions explain (\d+)% of its variance)?", text)
    assert m, text
    k = words[m.group(1).capitalize()]
    named = re.split(r", | and ", m.group(3))
    assert named == [charts.lower_first(x) for x in t["label"].head(k)]  # the k largest total indices
    st = t["ST"].clip(lower=0).to_numpy()
    # the share: the named total indices summed, as a share of all total indices summed
    # (they overlap, each counting its interactions, so they are not shares of the variance)
    assert close(float(m.group(2)), 100 * st[:k].sum() / st.sum(), 0)
    # The first-order sum is stated only when its interval is narrow enough to read (model.sensitivity).
    s1_conf = float(np.sqrt((t["S1_conf"] ** 2).sum()))
    assert (m.group(4) is not None) == (s1_conf <= 0.1)
    if m.group(4) is not None:
        assert close(float(m.group(4)), 100 * min(max(t["S1"].sum(), 0), 1), 0)
    assert f"{len(t):,} runs" not in text and f"{SOBOL_N * (len(t) + 2):,} runs" in text


def _too_wide(t) -> bool:
    """The project's rule for untrustworthy Sobol' indices, from the table."""
    top = t[t["ST"] >= 0.05]
    neg = t[t["S1"] + t["S1_conf"] < 0]
    return bool((top["ST_conf"] > top["ST"]).any() or len(neg) > max(2, 0.05 * len(t)))


def test_brief_says_when_the_sobol_intervals_are_too_wide(ds, content, fresh_sobol):
    from model.brief.content import build_content

    assert ("Caution: N=" in content.change_text) == _too_wide(fresh_sobol)
    # At the smallest N the intervals are wide; the brief says so, and how to fix it
    small = build_content([ds], ["baseline"], 60, 64)
    from model.sensitivity import run_sensitivity

    t = run_sensitivity(load_scenario("baseline"), method="sobol", n=64, outputs=["confrontation_or_worse"], seed=3,
                        horizon=60, by_year=False).table
    assert _too_wide(t), "N=64 was expected to leave wide intervals here"
    assert "Caution: N=64 is too small to trust these indices" in small.change_text
    assert "--sobol-n" in small.change_text and "--n " not in small.change_text


def test_no_doubled_brackets_anywhere_in_the_brief(content):
    from model.brief.render import page_html

    html = page_html(content, [])
    assert not re.search(r"\([^()]*\(", html), re.search(r".{40}\([^()]*\(.{20}", html).group(0)
    assert "per month, logistic rate" in html


# ---------------------------------------------------------------- the terminal summary

def test_summary_plus_minus_is_the_95_percent_interval_and_names_the_scenario(ds):
    d = ds.copy()
    d.attrs["scenario_label"] = "baseline + repression=0.8"
    s = summarize(d)
    text = s.text()
    assert text.startswith("Scenario 'baseline + repression=0.8'")
    assert "95% Monte Carlo interval" in text
    out = ds["outcome"].values.astype(str)
    for k in ("rupture", "confrontation", "cool", "thaw"):
        p = (out == k).mean()
        half = 100 * 1.96 * np.sqrt(p * (1 - p) / out.size)
        assert f"{k:<14} {100 * p:5.1f}% +/- {half:.1f}   {term_for(round(100 * p, 1))}" in text
    data = s.to_dict()
    assert data["scenario"] == "baseline + repression=0.8" and data["scenario_name"] == "baseline"
    p, se = data["outcomes"]["cool"]
    assert data["ci95"]["cool"] == pytest.approx([p - 1.96 * se, p + 1.96 * se])
    frame = s.to_frame().set_index("quantity")
    row = frame.loc["P(outcome = cool in 2018-02)"]
    assert row["ci95_high"] - row["ci95_low"] == pytest.approx(2 * 1.96 * row["std_error"])
    assert "in 2018-02" in text.split("Outcome")[1].splitlines()[0]
    assert "Events by 2018-02" in text


def test_outcome_words_carry_a_dagger_exactly_where_the_interval_spans_an_edge(ds):
    fig = charts.outcome_chart(ds, size="a4")
    out = ds["outcome"].values.astype(str)
    texts = {t.get_text().split("%")[0]: t.get_text() for t in fig.axes[0].texts}
    for k in ("rupture", "confrontation", "cool", "thaw"):
        p = (out == k).mean()
        label = texts[f"{100 * p:.1f}"]
        assert label.endswith("\u2020") == bool(_edges_crossed(p, np.sqrt(p * (1 - p) / out.size))), label
    assert "\u2020" not in fig._supxlabel.get_text() or "spans an edge" in fig._supxlabel.get_text()


@pytest.mark.parametrize("seed", [3, 4])
def test_brief_panels_keep_their_labels_inside(seed):
    """Long gap wording ('between remote chance and highly unlikely') and the
    waterfall's values must stay inside their panel of the one-page brief."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from model.brief.content import build_content
    from model.brief.render import page_figure

    d = simulate(load_scenario("baseline"), runs=300, seed=seed)
    page = page_figure(build_content([d], ["baseline"], 50, 64))
    charts.figure_bytes(page, "png")
    r = FigureCanvasAgg(page).get_renderer()
    assert len(page.subfigs) == 5  # four charts and the tornado
    for sub in page.subfigs:
        panel = sub.bbox
        for ax in sub.axes:
            for t in ax.texts:
                bb = t.get_window_extent(r)
                assert panel.x0 - 1 <= bb.x0 and bb.x1 <= panel.x1 + 1, t.get_text()


def test_comparison_sentence_states_each_scenarios_headline(ds, other):
    from model.brief.content import build_content
    from model.brief.render import judgment_lines

    c = build_content([ds, other], ["baseline", "crackdown"], 50, 64)
    line = judgment_lines(c)[-1]
    m = re.match(r"By comparison, the probability that relations are confrontational or worse in Feb 2018 is "
                 r"(\d+(?:\.\d)?)% \((.+?)\) in 'baseline' against (\d+(?:\.\d)?)% \((.+?)\) in 'crackdown'\.$", line)
    assert m, line
    for d, value, term in ((ds, m.group(1), m.group(2)), (other, m.group(3), m.group(4))):
        p = np.isin(d["outcome"].values.astype(str), ["rupture", "confrontation"]).mean()
        assert close(float(value), 100 * p, 1 if "." in value else 0) and term == term_for(100 * p)


def test_a_brief_whose_text_cannot_fit_its_page_is_one_line(tmp_path):
    """Too much text for the one page (here a subtitle of 4,000 characters) is a one-line DialogueError
    naming the fix, not a layout traceback."""
    import dataclasses

    from model.brief.content import build_content
    from model.brief.render import page_figure
    from model.errors import DialogueError

    d = simulate(load_scenario("baseline"), runs=100, seed=1)
    content = build_content([d], ["baseline"], 50, 64)
    content = dataclasses.replace(content, subtitle="Far too long a subtitle. " * 160)
    with pytest.raises(DialogueError) as e:
        page_figure(content)
    msg = str(e.value)
    assert "\n" not in msg and "brief's text" in msg and "shorten the scenario's name or description" in msg
