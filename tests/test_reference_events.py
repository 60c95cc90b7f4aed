"""The reference class of pre-2013 episodes (issue 9): dates, sources, and the base
rates derived from it, recomputed here from the raw CSV."""

from __future__ import annotations

import csv
import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from model.reference import KINDS, base_rates, rates_markdown, reference_events

ROOT = Path(__file__).resolve().parent.parent
CUTOFF = dt.date(2013, 3, 13)


def _rows() -> list[dict[str, str]]:
    text = resources.files("model.data").joinpath("reference_events.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))


def test_every_row_is_dated_before_the_forecast_and_sourced():
    rows = _rows()
    assert len(rows) >= 15
    for r in rows:
        for col in ("date", "end_date", "response_date"):
            if r[col]:
                assert dt.date.fromisoformat(r[col]) < CUTOFF, (r["id"], col, r[col])
        assert r["source"].strip(), r["id"]
        assert r["url"].strip() and all(u.startswith(("http://", "https://")) for u in r["url"].split()), r["id"]
        assert r["kind"] in KINDS, r["id"]
        assert r["first_mover"] in ("UK", "USSR", "Russia", "EU", "other", "none"), r["id"]
        assert r["date_precision"] in ("day", "month", "year"), r["id"]
        assert float(r["size"]) >= 0
    assert len({r["id"] for r in rows}) == len(rows)


def test_the_record_holds_the_episodes_the_issue_names():
    ids = {r["id"] for r in _rows()}
    for want in ("foot-1971", "gordievsky-1985-a", "expulsions-1989", "obukhov-1996", "spy-rock-2006",
                 "litvinenko-2006", "litvinenko-2007", "british-council-2008", "georgia-war-2008",
                 "eu-pca-2008", "expulsions-2010", "no-sanctions-2012"):
        assert want in ids
    by_id = {r["id"]: r for r in _rows()}
    assert (by_id["litvinenko-2007"]["size"], by_id["litvinenko-2007"]["response_size"]) == ("4", "4")
    assert by_id["foot-1971"]["size"] == "105"


def test_csv_ships_as_package_data():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "*.csv" in pyproject["tool"]["setuptools"]["package-data"]["model.data"]
    assert "model.data" in pyproject["tool"]["setuptools"]["packages"]
    assert len(reference_events()) == len(_rows())


def test_base_rates_recomputed_from_the_raw_csv():
    rows = _rows()
    b = base_rates()
    post = [r for r in rows if r["kind"] == "expulsion_round" and 1992 <= int(r["date"][:4]) <= 2012]
    assert b.expulsion_rounds.count == len(post) == 4 and b.expulsion_rounds.years == 21
    assert b.expulsion_rounds.per_year == pytest.approx(4 / 21)
    assert b.expulsion_rounds.jeffreys_per_year == pytest.approx(4.5 / 21)
    assert b.expulsion_sizes == tuple(sorted(float(r["size"]) for r in post))
    allr = [r for r in rows if r["kind"] == "expulsion_round"]
    known = [r for r in allr if r["response_size"]]
    answered = [r for r in known if float(r["response_size"]) > 0]
    assert b.reciprocity_share == pytest.approx(len(answered) / len(known))
    lags = sorted((dt.date.fromisoformat(r["response_date"]) - dt.date.fromisoformat(r["date"])).days
                  for r in answered if r["response_date"])
    assert b.reply_lag_days == tuple(float(x) for x in lags)
    assert b.major_incidents.count == 1 and b.sanctions.count == 0
    assert b.sanctions.jeffreys_per_year == pytest.approx(0.5 / 21)
    # Both ways per episode: the 1985 spiral is 25 + 25 + 6 + 6.
    assert 62.0 in b.expulsion_totals_long
    assert b.expulsion_rounds.prob(60, jeffreys=True) == pytest.approx(1 - np.exp(-4.5 / 21 * 5))
    assert b.event_rate("formula") is None and b.event_rate("expulsions") is b.expulsion_rounds


def test_doc_shows_the_computed_rates():
    doc = (ROOT / "docs" / "reference-events.md").read_text()
    assert rates_markdown() in doc
