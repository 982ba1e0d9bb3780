"""Writers for what the officer receives: provider workbooks, the overview, the findings CSV.

Writers only read the audit result and the catalogue; they decide nothing about rules.
"""

from kvcompliance.report.csvout import write_findings_csv
from kvcompliance.report.names import provider_filename
from kvcompliance.report.overview import write_overview
from kvcompliance.report.provider import ProviderView, provider_view, render_provider
from kvcompliance.report.tables import FINDINGS_COLUMNS, findings_rows

__all__ = [
    "FINDINGS_COLUMNS",
    "ProviderView",
    "findings_rows",
    "provider_filename",
    "provider_view",
    "render_provider",
    "write_findings_csv",
    "write_overview",
]
