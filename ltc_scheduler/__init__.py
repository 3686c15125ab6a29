"""LTC Scheduler: daily packaging and delivery planning for long-term-care pharmacies."""

__version__ = "0.1.0"
