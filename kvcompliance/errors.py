"""The project's exception hierarchy.

Every message is Dutch and written for the officer: the CLI prints it as it is.
"""


class KvError(Exception):
    """Base class: something the user can act on, never a programming error."""


class CatalogueError(KvError):
    """The catalogue or a user's rules file is not valid."""


class RegisterError(KvError):
    """The contract register cannot be used."""


class UnreadableFile(KvError):
    """An input file cannot be used as a return; the message is the Dutch reason."""

    def __init__(self, reason: str, kind: str = "onleesbaar"):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class OutputError(KvError):
    """The output cannot be written."""


class DossierError(KvError):
    """The dossier (SQLite) cannot be opened, read or written."""
