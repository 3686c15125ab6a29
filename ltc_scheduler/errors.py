"""Errors a user can act on. The CLI maps :class:`BadInput` to exit code 2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in one row of an input file: ``orders.csv row 17, need_by: '2026-13-01' is not a date``."""

    file: str
    row: int  # line number in the file as a spreadsheet shows it: header = row 1, first data row = 2
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}, {self.column}: {self.message}"


class BadInput(ValueError):
    """Input the user must fix (a bad CSV row, an impossible window, an unknown reference)."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        self.errors = list(errors or [])
        if self.errors:
            lines = "\n".join(f"  {e}" for e in self.errors)
            message = f"{message}\n{lines}"
        super().__init__(message)


class PlanningError(RuntimeError):
    """The pipeline could not produce a plan (nothing was saved)."""
