"""Reading a CSV file into validated rows: the shared part of every importer.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2
(a blank line still counts as a row, a quoted multi-line cell is one row). Every problem becomes a
:class:`~ltc_scheduler.errors.RowError`; the importers collect all of them and raise one
:class:`~ltc_scheduler.errors.BadInput` before writing anything.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ltc_scheduler.errors import BadInput, RowError
from ltc_scheduler.problem.clock import parse_hhmm, wall_to_utc

M = TypeVar("M", bound=BaseModel)
E = TypeVar("E", bound=StrEnum)

MAX_FIELD = 10_000


@dataclass(frozen=True, slots=True)
class CsvText:
    """The text of a CSV file and the name used in messages (``orders.csv``)."""

    name: str
    text: str


def read_source(source: str | Path | CsvText) -> CsvText:
    """Load a file (UTF-8, optional BOM) into memory; unreadable files are :class:`BadInput`."""
    if isinstance(source, CsvText):
        return source
    path = Path(source)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path.name}: is not UTF-8 text (byte {exc.start}); save it as CSV UTF-8") from None
    return CsvText(path.name, text)


def read_rows(
    src: CsvText, *, required: Iterable[str], optional: Iterable[str] = ()
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Parse ``src`` into ``(row_number, {column: stripped text})`` pairs and the structural errors.

    Columns are matched case-insensitively; unknown columns are ignored. A missing required column
    is an error on row 1 and no rows are returned.
    """
    required = list(required)
    known = set(required) | set(optional)
    errors: list[RowError] = []
    if "\x00" in src.text:
        raise BadInput(f"{src.name}: contains NUL bytes; this is not a CSV text file")
    reader = csv.reader(io.StringIO(src.text, newline=""), strict=False)
    records: list[list[str]] = []
    try:
        for rec in reader:
            records.append(rec)
    except csv.Error as exc:
        raise BadInput(f"{src.name} row {len(records) + 1}: cannot be read as CSV ({exc})") from None
    if not records or not any(c.strip() for c in records[0]):
        raise BadInput(
            f"{src.name}: is empty; the first row must be a header with the columns {', '.join(required)}"
        )
    header = [h.strip().lower().lstrip("\ufeff") for h in records[0]]
    seen: set[str] = set()
    for h in header:
        if h in seen and h in known:
            errors.append(RowError(src.name, 1, h, "column appears twice"))
        seen.add(h)
    for col in required:
        if col not in seen:
            errors.append(RowError(src.name, 1, col, "required column is missing"))
    if errors:
        return [], errors
    rows: list[tuple[int, dict[str, str]]] = []
    width = len(header)
    take: list[tuple[int, str]] = []
    for j, col in enumerate(header):
        if col in known and col not in {c for _, c in take}:
            take.append((j, col))
    for i, rec in enumerate(records[1:], start=2):
        if not any(rec) or not any(c.strip() for c in rec):
            continue  # blank line
        n = len(rec)
        if n > width and any(c.strip() for c in rec[width:]):
            errors.append(
                RowError(src.name, i, "(row)", f"has {n} values but the header has {width} columns")
            )
            continue
        if n >= width:
            values = {col: rec[j].strip() for j, col in take}
        else:
            values = {col: (rec[j].strip() if j < n else "") for j, col in take}
        if max(map(len, rec)) > MAX_FIELD:
            for col, cell in values.items():
                if len(cell) > MAX_FIELD:
                    errors.append(RowError(src.name, i, col, f"value is too long ({len(cell)} characters)"))
                    values[col] = ""
        rows.append((i, values))
    return rows, errors


def validate_rows(
    src: CsvText, rows: list[tuple[int, dict[str, str]]], model: type[M], errors: list[RowError]
) -> list[tuple[int, M]]:
    """Validate each row with the pydantic ``model``; errors are appended, good rows returned."""
    good: list[tuple[int, M]] = []
    for row_no, values in rows:
        data = {k: (v if v != "" else None) for k, v in values.items()}
        try:
            good.append((row_no, model.model_validate(data)))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = err.get("loc") or ()
                column = str(loc[0]) if loc else "(row)"
                errors.append(RowError(src.name, row_no, column, _message(err, values.get(column))))
    return good


def _message(err: Any, raw: str | None) -> str:
    msg = str(err.get("msg", "invalid value"))
    etype = err.get("type", "")
    if etype == "missing" or (etype != "value_error" and not raw):
        return "is required"
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    if raw:
        if etype.startswith("int"):
            return f"{raw!r} is not a whole number"
        if etype.startswith("float"):
            return f"{raw!r} is not a number"
        return f"{raw!r}: {msg}"
    return msg


# --------------------------------------------------------------------------- value parsers


def parse_int(v: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    s = str(v).strip()
    try:
        f = float(s)
    except ValueError:
        raise ValueError(f"{s!r} is not a whole number") from None
    if f != f or f in (float("inf"), float("-inf")) or not f.is_integer():
        raise ValueError(f"{s!r} is not a whole number")
    n = int(f)
    if lo is not None and n < lo:
        raise ValueError(f"{s!r} must be at least {lo}")
    if hi is not None and n > hi:
        raise ValueError(f"{s!r} must be at most {hi}")
    return n


def parse_float(v: Any, *, lo: float | None = None, hi: float | None = None) -> float:
    s = str(v).strip()
    try:
        f = float(s)
    except ValueError:
        raise ValueError(f"{s!r} is not a number") from None
    if f != f or f in (float("inf"), float("-inf")):
        raise ValueError(f"{s!r} is not a number")
    if lo is not None and f < lo:
        raise ValueError(f"{s!r} must be at least {lo:g}")
    if hi is not None and f > hi:
        raise ValueError(f"{s!r} must be at most {hi:g}")
    return f


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def parse_bool(v: Any) -> bool:
    s = str(v).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError(f"{v!r} is not yes/no")


_ENUM_KEYS: dict[tuple[type, int], dict[str, Any]] = {}
_SEP = str.maketrans({" ": "_", "-": "_", "/": "_", "\t": "_"})


def parse_enum(enum_cls: type[E], v: Any, *, synonyms: dict[str, E] | None = None, what: str = "") -> E:
    """Case-insensitive enum lookup by value or name (spaces, dashes and slashes count as ``_``)."""
    cache_key = (enum_cls, id(synonyms))
    table = _ENUM_KEYS.get(cache_key)
    if table is None:
        table = {}
        for member in enum_cls:
            table[member.name.lower()] = member
            table[member.value.lower()] = member
        table.update(synonyms or {})
        _ENUM_KEYS[cache_key] = table
    s = v.strip() if type(v) is str else str(v).strip()
    found = table.get(s) or table.get(s.lower())
    if found is None:
        key = s.lower().translate(_SEP)
        while "__" in key:
            key = key.replace("__", "_")
        found = table.get(key)
    if found is None:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValueError(f"{s!r} is not {what or 'a valid value'} (one of {allowed})")
    return found


def parse_datetime(v: Any, *, tz: str, end_of_day: bool = False) -> dt.datetime:
    """``YYYY-MM-DD HH:MM[:SS][+offset]`` (local pharmacy time without an offset) -> UTC-aware.

    A bare date means 00:00 (or 23:59 with ``end_of_day``). Results are cached: exports repeat the
    same timestamps on many lines.
    """
    return _parse_datetime_cached(str(v).strip(), tz, end_of_day)


@lru_cache(maxsize=65536)
def _parse_datetime_cached(s: str, tz: str, end_of_day: bool) -> dt.datetime:
    value: dt.datetime | None = None
    if len(s) > 10:
        try:
            value = dt.datetime.fromisoformat(s)
        except ValueError:
            value = None
    if value is None:
        try:
            d = dt.date.fromisoformat(s[:10])
        except ValueError:
            raise ValueError(f"{s!r} is not a date (expected YYYY-MM-DD HH:MM)") from None
        if len(s) != 10:
            raise ValueError(f"{s!r} has no valid time of day (expected YYYY-MM-DD HH:MM)")
        value = dt.datetime.combine(d, dt.time(23, 59) if end_of_day else dt.time(0))
    if not 1900 <= value.year <= 2999:
        raise ValueError(f"{s!r} is out of range (years 1900-2999)")
    if value.tzinfo is None:
        return wall_to_utc(value, tz)
    return value.astimezone(dt.UTC)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekday(v: Any) -> int:
    s = str(v).strip().lower()
    if s.isdigit() and 0 <= int(s) <= 6:
        return int(s)
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for i, name in enumerate(full):
        if len(s) >= 3 and name.startswith(s):
            return i
    raise ValueError(f"{v!r} is not a weekday (Mon..Sun or 0..6, 0 = Monday)")


def _parse_days(s: str) -> list[int]:
    days: set[int] = set()
    for part in s.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if "-" in part:
            a, b = (x.strip()[:3] for x in part.split("-", 1))
            if a not in WEEKDAYS or b not in WEEKDAYS:
                raise ValueError(part)
            i, j = WEEKDAYS.index(a), WEEKDAYS.index(b)
            days.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif part[:3] in WEEKDAYS:
            days.add(WEEKDAYS.index(part[:3]))
        else:
            raise ValueError(part)
    if not days:
        raise ValueError(s)
    return sorted(days)


def parse_windows(v: Any) -> list[tuple[int, int, int]]:
    """``"09:30-12:00; Mon-Fri 18:00-19:30"`` -> ``[(weekday, start_min, end_min), ...]``.

    Entries are separated by ``;`` or ``|``; an entry without days applies to every day. Windows of
    one weekday must not overlap.
    """
    s = str(v).strip()
    out: list[tuple[int, int, int]] = []
    for entry in re.split(r"[;|]", s):
        entry = entry.strip()
        if not entry:
            continue
        m = re.fullmatch(
            r"(?:(?P<days>[A-Za-z][A-Za-z,\s\-]*?)\s+)?(?P<a>\d{1,2}:\d{2})\s*-\s*(?P<b>\d{1,2}:\d{2})", entry
        )
        if not m:
            raise ValueError(f"{entry!r} is not a delivery window (expected e.g. 'Mon-Fri 09:30-12:00')")
        try:
            a, b = parse_hhmm(m.group("a")), parse_hhmm(m.group("b"))
        except ValueError:
            raise ValueError(f"{entry!r} has an impossible time of day") from None
        if b <= a:
            raise ValueError(f"{entry!r} ends before it starts")
        try:
            days = _parse_days(m.group("days")) if m.group("days") else list(range(7))
        except ValueError:
            raise ValueError(f"{entry!r}: days must be like Mon, Sat-Sun or Mon,Wed,Fri") from None
        out.extend((d, a, b) for d in days)
    if not out:
        raise ValueError("at least one delivery window is required, e.g. '09:30-12:00'")
    by_day: dict[int, list[tuple[int, int]]] = {}
    for d, a, b in out:
        by_day.setdefault(d, []).append((a, b))
    for d, ws in by_day.items():
        ws.sort()
        for (a1, b1), (a2, _b2) in zip(ws, ws[1:], strict=False):
            if a2 < b1:
                raise ValueError(
                    f"windows overlap on {WEEKDAYS[d].title()} ({a1 // 60:02d}:{a1 % 60:02d}-"
                    f"{b1 // 60:02d}:{b1 % 60:02d} and {a2 // 60:02d}:{a2 % 60:02d}-...)"
                )
    return sorted(set(out))


def fail_if(errors: list[RowError], src: CsvText, what: str) -> None:
    """Raise one BadInput listing every error (sorted by row), if there are any."""
    if errors:
        errors = sorted(errors, key=lambda e: (e.row, e.column))
        n_rows = len({e.row for e in errors})
        raise BadInput(
            f"{src.name}: nothing was imported; {len(errors)} problem(s) in {n_rows} row(s)",
            errors,
        )


def chunks(seq: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


Parser = Callable[[Any], Any]
