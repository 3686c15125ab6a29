"""Orchestration: packaging then delivery, the coupling loop between them, re-planning."""
