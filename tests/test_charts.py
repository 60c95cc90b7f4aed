"""Briefing charts: every chart in every format is valid, deterministic, computed
from the data, and drawn without touching global matplotlib state."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pytest
from pdfcheck import fonts_embedded
from PIL import Image

from model import charts, load_scenario, simulate
from model.analysis import phia
from model.errors import DialogueError


@pytest.fixture(scope="module")
def ds():
    return simulate(load_scenario("baseline"), runs=300, seed=3)


@pytest.fixture(scope="module")
def other():
    return simulate(load_scenario("syria_convergence"), runs=300, seed=3)


def _all(ds, other):
    return {
        "fan": charts.fan_chart(ds, size="a4"),
        "fan_compare": charts.fan_chart(ds, size="a4", compare=other),
        "outcomes": charts.outcome_chart(ds, size="a4", compare=other),
        "waterfall": charts.contributions_chart(ds, "waterfall", size="a4"),
        "stacked": charts.contributions_chart(ds, "stacked", size="a4"),
        "exports": charts.exports_chart(ds, size="a4"),
        "events": charts.events_chart(ds, size="a4"),
        "trajectories": charts.trajectories_chart(ds, n=5, size="a4", seed=1),
        "compare": charts.compare_chart({"baseline": ds, "syria": other}, size="a4"),
    }


def test_every_chart_builds_with_a_finding_title_and_source_note(ds, other):
    before = dict(matplotlib.rcParams)
    figs = _all(ds, other)
    assert dict(matplotlib.rcParams) == before  # rc_context only, no global changes
    for name, fig in figs.items():
        assert isinstance(fig, matplotlib.figure.Figure), name
        title = fig.get_suptitle()
        assert len(title) > 30 and any(ch.isdigit() for ch in title), (name, title)
        note = fig._supxlabel.get_text()
        assert "runs" in note and "Source: model simulation" in note, name
    assert "ONS" in figs["exports"]._supxlabel.get_text()


def test_titles_quote_numbers_computed_from_the_data(ds):
    med = float(np.median(ds["relations"].isel(time=-1)))
    assert charts.fmt_pts(med) in charts.fan_chart(ds, size="a4").get_suptitle().replace("\n", " ")
    probs = charts.outcome_probs(ds)
    modal = max(probs, key=lambda k: probs[k][0])
    title = charts.outcome_chart(ds, size="a4").get_suptitle().replace("\n", " ")
    assert title.startswith(modal.capitalize())
    assert f"{100 * probs[modal][0]:.0f}%" in title and phia(probs[modal][0]) in title
    totals = charts.driver_totals(ds)
    end = float(ds["relations"].isel(time=-1).mean())
    # the waterfall adds up: start + contributions = mean at the horizon
    assert ds.attrs["initial_relations"] + sum(totals.values()) == pytest.approx(end, abs=1e-6)
    assert charts.fmt_pts(end) in charts.contributions_chart(ds, size="a4").get_suptitle().replace("\n", " ")


@pytest.mark.parametrize("size", ["slide", "a4"])
def test_png_pixel_size(ds, size):
    fig = charts.events_chart(ds, size=size)
    img = Image.open(io.BytesIO(charts.figure_bytes(fig, "png")))
    img.load()
    w, h = charts.SIZES[size]
    assert img.size == (int(w * charts.DPI[size]), int(h * charts.DPI[size]))


def test_svg_and_pdf_are_valid_and_fonts_embedded(ds, tmp_path):
    import pypdf

    fig = charts.outcome_chart(ds, size="a4")
    root = ET.fromstring(charts.figure_bytes(fig, "svg"))
    assert root.tag.endswith("svg")
    path = charts.save_figure(fig, tmp_path / "o.pdf")
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 1
    assert fonts_embedded(reader)


def test_bytes_are_deterministic(ds):
    for fmt in charts.FORMATS:
        a = charts.figure_bytes(charts.events_chart(ds, size="a4"), fmt)
        b = charts.figure_bytes(charts.events_chart(ds, size="a4"), fmt)
        assert a == b, fmt
        if fmt == "pdf":
            assert b"CreationDate" not in a
        if fmt == "svg":
            assert b"<dc:date>" not in a


def test_bad_format_and_size(ds):
    with pytest.raises(DialogueError, match="unknown format"):
        charts.figure_bytes(charts.events_chart(ds, size="a4"), "jpg")
    with pytest.raises(DialogueError, match="unknown chart size"):
        charts.fan_chart(ds, size="poster")
    with pytest.raises(DialogueError):
        charts.contributions_chart(ds, kind="pie")
    with pytest.raises(DialogueError):
        charts.compare_chart({"only": ds})


def test_minus_and_points_formatting():
    assert charts.fmt_pts(-2.14) == "\u22122.1"
    assert charts.fmt_pts(-0.04) == "0.0"
    assert charts.fmt_pts(1) == "+1.0"
    assert charts.minus("US-Russia -3 and (-2)") == "US-Russia \u22123 and (\u22122)"


def test_spread_labels_never_closer_than_the_gap():
    pos = charts._spread([0.47, 0.46, 0.45, 0.04], 0.1, 0.0, 1.0)
    s = sorted(pos)
    assert min(np.diff(s)) >= 0.1 - 1e-9 and s[0] >= 0 and s[-1] <= 1


def test_measured_wrap_fits_width():
    text = "Relations most likely slide from cool to confrontational by Feb 2018 (median -2.1)"
    for line in charts.wrap_lines(text, 2.0, 9, "bold"):
        assert charts.text_width_pt(line, 9, "bold") <= 2.0 * 72


def test_pdf_numbers_are_rounded_so_last_bit_noise_cannot_reach_the_file():
    """Two draws of one figure can differ in a text position's 13th digit; the PDF writer
    must not print that digit (the brief's PDF once differed as 572.6102938495 vs ...496)."""
    from matplotlib.backends import backend_pdf

    from model.charts import _round_pdf_numbers

    _round_pdf_numbers()
    assert backend_pdf.pdfRepr(572.6102938495) == backend_pdf.pdfRepr(572.6102938496) == b"572.610294"
    assert backend_pdf.pdfRepr(-1e-9) == b"0" and backend_pdf.pdfRepr(2.5) == b"2.5" and backend_pdf.pdfRepr(3) == b"3"
    assert backend_pdf.pdfRepr([1.0, 0.1234567891]) == b"[ 1 0.123457 ]"  # lists go through it too
