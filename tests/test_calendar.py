"""Calendar: every scheduled process is active in exactly its documented months.

* 2+2 meetings: the first meeting's month, then every ``meeting_interval`` months (a first
  meeting before the start month continues on its cycle); a suspended format does not meet.
  Checked on the recorded ``meeting`` flag.
* Election campaigns: the ``campaign_months`` months ending with the election month.
  Checked on the model's campaign state, month by month, while the real engine runs.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from model import simulate
from model.engine import CalendarPlan, Model, month_index


def _months(first: int, interval: int, horizon: int) -> set[int]:
    return set(range(first, horizon, interval))


def test_month_index_counts_calendar_months():
    assert month_index("2013-03", "2013-03") == 0
    assert month_index("2013-03", "2014-09") == 18
    assert month_index("2013-11", "2014-02") == 3
    assert month_index("2014-01", "2013-03") == -10


@pytest.mark.parametrize("start, first, interval, want_first", [
    ("2013-03", "2013-05", 7, 2),
    ("2013-03", "2013-03", 12, 0),
    ("2014-01", "2013-03", 12, 2),   # the format began before the run: next meeting on its cycle
    ("2014-01", "2013-03", 4, 2),
    ("2014-01", "2013-05", 4, 0),
])
def test_meetings_are_held_in_exactly_the_scheduled_months(baseline, start, first, interval, want_first):
    horizon = 40
    sc = baseline.with_overrides({"initial.start": start, "calendar.first_meeting": first,
                                  "calendar.meeting_interval": interval, "calendar.elections": []})
    assert CalendarPlan.from_scenario(sc).first_meeting == want_first
    ds = simulate(sc, runs=30, seed=3, horizon=horizon)
    meeting, active = ds["meeting"].values, ds["dialogue_active"].values
    scheduled = np.zeros(horizon, dtype=bool)
    scheduled[sorted(_months(want_first, interval, horizon))] = True
    np.testing.assert_array_equal(meeting, active & scheduled)
    assert meeting[:, scheduled].mean() > 0.5  # the format is mostly in force: meetings happen
    assert not ds["formula"].values[:, ~scheduled].any()


def _campaign_by_month(sc, horizon: int) -> list[float]:
    """Run the real engine and read the campaign state in each month, after the
    opposition (phase 0.10) has acted and before the ledger closes the month."""
    m = Model(sc, np.arange(2), seed=1, horizon=horizon)
    seen: list[float] = []

    class Watched(simpy.Environment):
        def run(self, until=None):
            for t in range(int(until)):
                super().run(until=t + 0.3)
                seen.append(m.campaign)
            return super().run(until=until)

    m.env = Watched()
    m.run()
    assert m.month == horizon
    return seen


def _expected(horizon: int, spans: list[tuple[int, int]]) -> list[float]:
    on = set()
    for first, last in spans:
        on |= set(range(max(first, 0), last + 1))
    return [1.0 if t in on else 0.0 for t in range(horizon)]


def test_default_campaigns_are_the_three_months_ending_with_each_election(baseline):
    # Elections 2014-09, 2016-09, 2018-03 are months 18, 42 and 60 after March 2013.
    plan = CalendarPlan.from_scenario(baseline)
    assert [(f, a) for _, f, a in plan.campaigns] == [(16, 18), (40, 42), (58, 60)]
    assert _campaign_by_month(baseline, 62) == _expected(62, [(16, 18), (40, 42), (58, 60)])


def test_campaign_length_and_elections_at_the_edges(baseline):
    elections = [{"name": "before the start", "date": "2013-01"},
                 {"name": "campaign began before the start", "date": "2013-04"},
                 {"name": "later", "date": "2014-01"},
                 {"name": "after the horizon", "date": "2016-01"}]
    sc = baseline.with_overrides({"calendar.campaign_months": 5, "calendar.elections": elections})
    plan = CalendarPlan.from_scenario(sc)
    assert [(f, a) for _, f, a in plan.campaigns] == [(-6, -2), (-3, 1), (6, 10), (30, 34)]
    assert _campaign_by_month(sc, 24) == _expected(24, [(-3, 1), (6, 10)])
    now = baseline.with_overrides({"calendar.elections": [{"name": "in the start month", "date": "2013-03"}]})
    assert _campaign_by_month(now, 3) == _expected(3, [(0, 0)])
    one = baseline.with_overrides({"calendar.campaign_months": 1,
                                   "calendar.elections": [{"name": "x", "date": "2013-08"}]})
    assert _campaign_by_month(one, 10) == _expected(10, [(5, 5)])


def test_overlapping_campaigns_stay_on_until_the_last_election(baseline):
    elections = [{"name": "a", "date": "2014-01"}, {"name": "b", "date": "2014-02"}]
    sc = baseline.with_overrides({"calendar.elections": elections})
    assert _campaign_by_month(sc, 16) == _expected(16, [(8, 10), (9, 11)])


def test_the_opposition_feels_the_campaign_from_its_first_month(baseline):
    """End to end: with common random numbers, an election spark changes protest first
    in the first campaign month (the opposition acts after the campaign has begun)."""
    sc = baseline.with_overrides({"calendar.elections": [{"name": "x", "date": "2014-01"}]})  # months 8-10
    quiet = simulate(sc, runs=20, seed=4, horizon=14, overrides={"election_spark": 0.0})
    spark = simulate(sc, runs=20, seed=4, horizon=14, overrides={"election_spark": 0.3})
    differs = (quiet["protest"].values != spark["protest"].values).any(axis=0)
    assert differs.argmax() == 8 and not differs[:8].any()
    assert (spark["protest"].values[:, 8:11] > quiet["protest"].values[:, 8:11]).all()
