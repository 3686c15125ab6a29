"""Dispatch exports from a saved plan: stop CSV, PDF driver manifest, GPX, Google Maps links and
packing lists. Every function takes plain objects (a Plan and its PlanningProblem), never the DB."""
