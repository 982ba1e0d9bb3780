"""The one catalogue: fields, sectors and rules, loaded from the TOML files in ``schemas/``.

Everything a user sees (the return form, the reader, validation, the ``regels`` command,
the workbooks) is derived from these objects. Only the standard library is imported here,
so that ``kvcompliance --help`` stays fast.
"""

from kvcompliance.catalogue.files import FILES_FILE, FileReason, FileReasons, load_file_reasons
from kvcompliance.catalogue.load import FIELDS_FILE, RULES_FILE, load_catalogue, placeholders, schemas_dir
from kvcompliance.catalogue.model import (
    BASIS_KINDS,
    FIELD_FORMAT,
    FIELD_TYPES,
    GROUP_CONTENT,
    GROUP_DELIVERY,
    LEVEL_STATUSES,
    NAME_PREFIX,
    NUMERIC_TYPES,
    OPERATORS,
    VERSION_NAME,
    Basis,
    Catalogue,
    EscalationStep,
    Field,
    KeyFigure,
    Level,
    Metric,
    ParamSpec,
    Rule,
    Section,
    Sector,
    Status,
    StatusInfo,
    worst,
)

__all__ = [
    "BASIS_KINDS", "FILES_FILE", "FileReason", "FileReasons", "load_file_reasons", "FIELD_FORMAT", "FIELD_TYPES", "FIELDS_FILE", "GROUP_CONTENT", "GROUP_DELIVERY", "LEVEL_STATUSES",
    "NAME_PREFIX", "NUMERIC_TYPES", "OPERATORS", "RULES_FILE", "VERSION_NAME", "Basis", "Catalogue", "EscalationStep", "Field", "KeyFigure",
    "Level", "Metric", "ParamSpec", "Rule", "Section", "Sector", "Status", "StatusInfo", "load_catalogue", "placeholders",
    "schemas_dir", "worst",
]
