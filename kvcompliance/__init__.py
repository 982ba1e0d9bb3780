"""kvcompliance: audit the child-abuse conditions in contracts and subsidies."""

__version__ = "0.1.0"
