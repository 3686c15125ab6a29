"""Figure builders on the hand-built plan of ``test_exports.py``: what each figure shows."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pytest
from factories import sample_plan, sample_problem

from ltc_scheduler.plan.model import Plan  # noqa: E402
from ltc_scheduler.viz._common import CLASS_COLORS, route_color  # noqa: E402
from ltc_scheduler.viz.gantt import gantt  # noqa: E402
from ltc_scheduler.viz.route_map import route_map  # noqa: E402
from ltc_scheduler.viz.timeline import timeline  # noqa: E402


def _bars(fig):
    """(trace name, y row, start datetime, minutes) for every bar of every bar trace."""
    out = []
    for t in fig.data:
        if t.type != "bar" or t.base is None:
            continue
        for y, base, x in zip(t.y, t.base, t.x, strict=True):
            out.append((t.name, y, base, x / 60_000))
    return out


def test_gantt_puts_each_batch_on_its_line_and_on_verification() -> None:
    plan, problem = sample_plan(), sample_problem()
    bars = _bars(gantt(plan, problem))
    packing = [b for b in bars if not b[1].startswith("Verification")]
    verification = [b for b in bars if b[1].startswith("Verification")]
    assert len(packing) == len(plan.batches) == len(verification)
    assert sum(1 for b in packing if b[1] == "Unit-dose line") == 2
    assert sum(1 for b in packing if b[1] == "Blister line A") == 14
    stat = [b for b in packing if b[0] == "STAT"]
    assert stat == [("STAT", "Unit-dose line", dt.datetime(2026, 11, 26, 6, 10), 4.0)]


def test_gantt_colours_by_class_and_hatches_cold_and_controlled() -> None:
    plan, problem = sample_plan(), sample_problem()
    fig = gantt(plan, problem)
    stat = next(t for t in fig.data if t.name == "STAT")
    assert stat.marker.color == CLASS_COLORS["stat"]
    assert set(stat.marker.pattern.shape) == {"/"}  # the STAT insulin batch is cold
    refill = next(t for t in fig.data if t.name == "Refill")
    assert set(refill.marker.pattern.shape) == {"x"}  # the oxycodone batch is controlled
    by_facility = gantt(plan, problem, color_by="facility")
    names = {t.name for t in by_facility.data}
    assert "Maple Grove Care 11" in names and "Cold" in names
    with pytest.raises(ValueError):
        gantt(plan, problem, color_by="nonsense")


def test_gantt_verification_lanes_never_overlap() -> None:
    plan, problem = sample_plan(), sample_problem()
    lanes: dict[str, list[tuple[dt.datetime, float]]] = {}
    for _, row, base, minutes in _bars(gantt(plan, problem)):
        if row.startswith("Verification"):
            lanes.setdefault(row, []).append((base, minutes))
    assert len(lanes) >= 2  # B0000 and B0100 are verified at the same time
    for items in lanes.values():
        items = sorted(set(items))  # batches of one session share one bar slot
        for (a, am), (b, _) in zip(items, items[1:], strict=False):
            assert a + dt.timedelta(minutes=am) <= b


def test_gantt_draws_one_verification_session_in_one_lane() -> None:
    """Batches a pharmacist checks together (same facility, same interval) share a lane."""
    plan = sample_plan()
    first = next(b for b in plan.batches if b.verify_start_min is not None)
    twin = replace(first, key="B9999", kind=first.kind)
    plan = replace(plan, batches=(*plan.batches, twin))
    rows = {
        row
        for name, row, base, minutes in _bars(gantt(plan, sample_problem()))
        if row.startswith("Verification")
    }
    before = {
        row
        for name, row, base, minutes in _bars(gantt(sample_plan(), sample_problem()))
        if row.startswith("Verification")
    }
    assert rows == before  # the twin added no lane


def test_gantt_of_an_unscheduled_plan_says_so() -> None:
    plan = Plan(date=dt.date(2026, 11, 26), batches=(), routes=())
    fig = gantt(plan, sample_problem())
    assert fig.layout.annotations[0].text == "No batches scheduled in this plan"


def test_route_map_draws_each_route_from_the_pharmacy_in_stop_order() -> None:
    plan, problem = sample_plan(), sample_problem()
    fig = route_map(plan, problem)
    lines = [t for t in fig.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["Van A · trip 1", "Van B · trip 1"]
    assert lines[0].line.color == route_color(1) and lines[1].line.color == route_color(2)
    assert list(lines[0].lat) == pytest.approx([42.045, 42.0, 42.01, 42.02, 42.045])
    stops = next(t for t in fig.data if t.mode == "markers+text" and t.name == "Van B · trip 1")
    assert list(stops.text) == [str(i) for i in range(1, 12)]
    unserved = [t for t in fig.data if str(t.name).startswith("Unserved")]
    assert unserved == []  # facility 99 is not in the problem: nothing to place
    assert fig.layout.map.style == "white-bg"  # the default loads nothing from the internet


def test_route_map_highlight_dims_the_other_routes() -> None:
    plan, problem = sample_plan(), sample_problem()
    fig = route_map(plan, problem, highlight=2)
    lines = {t.name: t for t in fig.data if t.mode == "lines"}
    assert lines["Van A · trip 1"].opacity == 0.25
    assert lines["Van B · trip 1"].opacity == 0.9
    assert lines["Van B · trip 1"].line.width > lines["Van A · trip 1"].line.width


def test_route_map_shows_unserved_facilities() -> None:
    plan, problem = sample_plan(), sample_problem()
    from dataclasses import replace

    from ltc_scheduler.plan.model import UnservedStop

    plan = replace(plan, unserved=(UnservedStop(13, "window closed before the batch was ready"),))
    unserved = next(t for t in route_map(plan, problem).data if t.name == "Unserved (1)")
    assert list(unserved.text) == ["Maple Grove Care 3: window closed before the batch was ready"]


def test_route_map_counts_every_unserved_stop_in_its_legend() -> None:
    from ltc_scheduler.plan.model import UnservedStop

    plan, problem = sample_plan(), sample_problem()
    plan = replace(
        plan,
        unserved=(
            UnservedStop(13, "window closed before the batch was ready"),
            UnservedStop(13, "no van left for the STAT delivery"),
            UnservedStop(99, "no vehicle can reach it inside its window"),  # not in the problem
        ),
    )
    names = [t.name for t in route_map(plan, problem).data if str(t.name).startswith("Unserved")]
    assert names == ["Unserved (3, 1 not on the map)"]
    unserved = next(t for t in route_map(plan, problem).data if str(t.name).startswith("Unserved"))
    assert list(unserved.text) == [
        "Maple Grove Care 3: window closed before the batch was ready; no van left for the STAT delivery"
    ]


def test_route_map_default_needs_no_tiles_and_has_routes_stops_pharmacy_and_a_scale() -> None:
    from ltc_scheduler.viz.route_map import PLAIN_STYLE, scale_km, style_text

    plan, problem = sample_plan(), sample_problem()
    fig = route_map(plan, problem)
    assert fig.layout.map.style == PLAIN_STYLE == "white-bg"
    assert all(t.type == "scattermap" for t in fig.data)
    assert len([t for t in fig.data if t.mode == "lines"]) == 2
    assert len([t for t in fig.data if t.mode == "markers+text" and t.name.startswith("Van")]) == 2
    assert any(t.name == "Lakeshore LTC Pharmacy" for t in fig.data)
    scale = next(t for t in fig.data if str(t.name).startswith("Scale"))
    # the points span 0.077 deg of longitude at 42 N: 6.4 km, a quarter of it is 1.6 km -> a 1 km bar
    assert scale_km([42.0, 42.13], [-87.765, -87.6877]) == 1
    km = scale.meta["scale_km"]
    assert scale.name == f"Scale: {km:g} km" and km == 1
    label = next(t for t in fig.data if t.name == "Scale: 1 km (label)")
    assert list(label.text) == ["1 km"] and label.showlegend is False
    lon0, lon1 = scale.lon[1], scale.lon[2]
    length = (lon1 - lon0) * 111.32 * math.cos(math.radians(42.065))
    assert length == pytest.approx(km, rel=1e-3)
    assert scale.lat[1] < min(f.location.lat for f in problem.facilities)  # under the points
    assert "without internet" in style_text(PLAIN_STYLE)
    assert "internet" in style_text("carto-positron") and "blank" in style_text("carto-positron")
    tiles = route_map(plan, problem, map_style="carto-positron")
    assert tiles.layout.map.style == "carto-positron"


def test_scale_bar_length_follows_the_extent() -> None:
    from ltc_scheduler.viz.route_map import scale_km

    assert scale_km([42.0, 42.01], [-87.70, -87.69]) == 0.5  # under a kilometre across
    assert scale_km([42.0, 42.5], [-88.0, -87.0]) == 20  # 83 km across
    assert scale_km([40.0, 43.0], [-90.0, -85.0]) == 100


def test_route_colours_never_look_late_or_unserved() -> None:
    import colorsys

    from ltc_scheduler.viz._common import LATE_COLOR, ROUTE_COLORS, UNSERVED_COLOR

    for c in ROUTE_COLORS:
        r, g, b = (int(c[i : i + 2], 16) / 255 for i in (1, 3, 5))
        h, _, sat = colorsys.rgb_to_hls(r, g, b)
        assert sat > 0.25, f"{c} is greyish, like unserved"
        assert not (h < 40 / 360 or h > 340 / 360), f"{c} is red or orange, like late"
    assert LATE_COLOR not in ROUTE_COLORS and UNSERVED_COLOR not in ROUTE_COLORS


def test_timeline_has_lines_verification_and_routes_with_late_stops_marked() -> None:
    plan, problem = sample_plan(), sample_problem()
    fig = timeline(plan, problem)
    assert list(fig.layout.yaxis.categoryarray) == [
        "Blister line A",
        "Unit-dose line",
        "Verification",
        "Van A · trip 1",
        "Van B · trip 1",
    ]
    route_bar = next(t for t in fig.data if t.type == "bar" and t.name == "Van A · trip 1")
    assert route_bar.base[0] == dt.datetime(2026, 11, 26, 8, 0) and route_bar.x[0] == 120 * 60_000
    markers = [t for t in fig.data if t.type == "scatter"]
    assert list(markers[0].marker.color) == ["white", "white", "#dc2626"]  # stop 3 is 5 min late
    assert list(markers[0].marker.symbol) == ["circle", "circle", "star"]  # ... and STAT


def test_timeline_marks_now_only_when_it_is_inside_the_day() -> None:
    plan, problem = sample_plan(), sample_problem()
    fig = timeline(plan, problem, now_min=9 * 60 + 30)
    assert [a.text for a in fig.layout.annotations] == ["now 09:30"]
    assert fig.layout.shapes[0].x0 == dt.datetime(2026, 11, 26, 9, 30)
    assert timeline(plan, problem, now_min=-600).layout.shapes == ()


def test_a_day_of_many_routes_gets_legend_room_without_shrinking_the_map() -> None:
    plan, problem = sample_plan(), sample_problem()
    few = route_map(plan, problem, height=520)
    many_plan = replace(plan, routes=tuple(replace(plan.routes[1], trip_no=k) for k in range(1, 29)))
    many = route_map(many_plan, problem, height=520)
    assert few.layout.height == 520 and few.layout.margin.b == 64
    assert many.layout.margin.b == 22 * 8 + 12  # 28 routes + pharmacy + scale: 8 lines of 4
    assert many.layout.height - many.layout.margin.b == few.layout.height - few.layout.margin.b == 456
