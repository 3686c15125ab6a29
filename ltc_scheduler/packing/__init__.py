"""Packaging: batches from order lines, the CP-SAT line and verification schedule, its validator."""
