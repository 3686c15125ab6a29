"""Plan objects, the figures of a plan (KPIs) and the whole-plan checks."""
