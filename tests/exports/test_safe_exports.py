"""Exports never hand a spreadsheet a formula (CSV injection) and GPX stays valid XML."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import gpxpy
import pytest
from factories import sample_plan, sample_problem

from ltc_scheduler.exports.gpx import route_gpx
from ltc_scheduler.exports.packing_list import packing_list_csv
from ltc_scheduler.exports.safe import safe_cell, safe_text, xml_text
from ltc_scheduler.exports.stops_csv import stops_csv

HOSTILE_NAME = '=HYPERLINK("http://evil.example","Click")'
HOSTILE_ADDRESS = "+cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Maple Court", "Maple Court"),
        ("-87.629800", "-87.629800"),  # a negative longitude stays a number
        ("+1.5e3", "+1.5e3"),
        ("", ""),
    ],
)
def test_safe_text(text: str, shown: str) -> None:
    assert safe_text(text) == shown


def test_safe_cell_leaves_non_text_alone() -> None:
    assert safe_cell(-87.6) == -87.6 and safe_cell(3) == 3 and safe_cell(None) is None


def _hostile():
    problem = sample_problem()
    facilities = list(problem.facilities)
    facilities[0] = replace(facilities[0], name=HOSTILE_NAME, address=HOSTILE_ADDRESS)
    return sample_plan(), replace(problem, facilities=tuple(facilities))


def test_stops_csv_escapes_formulas_and_keeps_numbers() -> None:
    plan, problem = _hostile()
    rows = list(csv.DictReader(io.StringIO(stops_csv(plan, problem))))
    first = next(r for r in rows if r["facility_id"] == str(problem.facilities[0].id))
    assert first["facility"] == "'" + HOSTILE_NAME
    assert first["address"] == "'" + HOSTILE_ADDRESS
    assert float(first["lon"]) < 0 and not first["lon"].startswith("'")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            if value.startswith("-"):
                float(value)  # only numbers may start with a minus


def test_packing_list_escapes_formulas() -> None:
    plan, problem = _hostile()
    rows = list(csv.DictReader(io.StringIO(packing_list_csv(plan, problem))))
    names = {r["facility"] for r in rows}
    assert "'" + HOSTILE_NAME in names
    assert HOSTILE_NAME not in names


def test_gpx_names_are_neutral_and_xml_valid() -> None:
    plan, problem = _hostile()
    problem = replace(problem, depot=replace(problem.depot, name="=Depot\x01"))
    text = route_gpx(plan, problem, 1)
    parsed = gpxpy.parse(text)  # valid XML despite the control character
    assert parsed.name.startswith("'=Depot") and "\x01" not in parsed.name
    comments = [w.comment for w in parsed.waypoints]
    assert "'" + HOSTILE_ADDRESS in comments
    assert xml_text("a\x00b\x1fc") == "abc"
