"""The output folder of an audit: the names of the files in it, defined once."""

from __future__ import annotations

OVERVIEW_FILE = "overzicht.xlsx"
FINDINGS_FILE = "bevindingen.csv"
LOG_FILE = "verwerking.jsonl"
MAILING_FILE = "verzendlijst.csv"
PROVIDER_DIR = "accountgesprek"
#: Drafts and the log of what was sent (``kvcompliance verzend``): never written by the audit.
MAIL_DIR = "verzending"
SENT_LOG = "verzonden.jsonl"
