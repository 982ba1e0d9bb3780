"""The dossier: every audit and every agreement over the years, in one SQLite file.

- :mod:`~kvcompliance.dossier.schema`: opening, recognising and migrating the file.
- :mod:`~kvcompliance.dossier.history`: the earlier years joined to this audit (read
  before the workbooks are written), and the escalation steps.
- :mod:`~kvcompliance.dossier.store`: one audit stored in one transaction.
- :mod:`~kvcompliance.dossier.agreements`: the agreements typed in the provider workbooks.
- :mod:`~kvcompliance.dossier.export`: the tables as CSV files.
- :mod:`~kvcompliance.dossier.model`: the plain data the workbooks are given.

The tables are documented for analysts in ``docs/DOSSIER.md``.
"""

from kvcompliance.dossier.schema import SCHEMA_VERSION, TABLES, Dossier, discarded_unless_used, open_dossier

__all__ = ["SCHEMA_VERSION", "TABLES", "Dossier", "discarded_unless_used", "open_dossier"]
