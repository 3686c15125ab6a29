"""CSV import (validated with pydantic, all-or-nothing, re-import updates by external id).

``import_facilities``, ``import_medications`` and ``import_orders`` take a session, a path (or a
:class:`CsvText`) and never commit: the caller's ``session_scope`` is the transaction.
"""

from ltc_scheduler.importers.csvfile import CsvText
from ltc_scheduler.importers.masterdata import import_facilities, import_medications
from ltc_scheduler.importers.orders import import_orders

__all__ = ["CsvText", "import_facilities", "import_medications", "import_orders"]
