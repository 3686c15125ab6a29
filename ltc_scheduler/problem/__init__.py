"""Plain problem objects: frozen dataclasses, integer minutes/metres/seconds; no ORM, no ortools, no UI."""
