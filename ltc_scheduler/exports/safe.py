"""Cells that a spreadsheet opens as data, never as a formula (CSV injection, OWASP).

A text cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
run as a formula by Excel, LibreOffice and Google Sheets: a facility named ``=HYPERLINK(...)`` or an
address ``+cmd|' /C calc'!A0`` would act when a dispatcher opens the file. Such cells get a leading
apostrophe (``'=HYPERLINK(...)``), which spreadsheets show as the plain text. Numbers stay numbers,
negative ones included (a longitude ``-87.629800``), so the files still sort and sum.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "safe_cell", "safe_text", "xml_text"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_text(text: str) -> str:
    """``text`` as a spreadsheet shows it literally (a leading apostrophe before a formula start)."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.match(text):
        return "'" + text
    return text


def safe_cell(value: Any) -> Any:
    """A CSV cell: text made :func:`safe_text`, numbers, booleans and ``None`` unchanged."""
    return safe_text(value) if isinstance(value, str) else value


class SafeCsvWriter:
    """``csv.writer`` whose rows go through :func:`safe_cell` (the only CSV writer of the exports)."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])


def xml_text(text: str) -> str:
    """Text for a GPX name or comment: characters XML 1.0 cannot hold are dropped, and a formula
    start is neutralised as in CSV (GPX files are also opened in spreadsheets and GIS tables)."""
    return safe_text(_XML_INVALID.sub("", text))
