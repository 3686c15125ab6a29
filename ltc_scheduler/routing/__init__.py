"""Delivery: the routing problem of a day, the OR-Tools model and warm start, its validator and reasons."""
