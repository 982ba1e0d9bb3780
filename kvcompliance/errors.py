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


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal (SIGINT or SIGTERM); ``signum`` says which.

    A KeyboardInterrupt, so every ``except Exception`` lets it pass and every cleanup
    that handles Ctrl-C handles it too.
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def os_reason(exc: OSError, reading: bool = False) -> str:
    """A plain Dutch phrase for an OS error, for messages to the officer (never the
    English ``strerror``). ``reading``: the error came from reading, not writing."""
    import errno

    reasons = {
        errno.EACCES: "geen leesrechten" if reading else "geen schrijfrechten",
        errno.EPERM: "geen toestemming",
        errno.ENOSPC: "de schijf is vol",
        errno.EDQUOT: "de schijfruimte (quotum) is op",
        errno.EFBIG: "het bestand wordt groter dan de schijf of het systeem toestaat",
        errno.EROFS: "de schijf is alleen-lezen",
        errno.ENOENT: "het bestand of de map bestaat niet" if reading else "de map bestaat niet",
        errno.ENOTDIR: "een deel van het pad is geen map",
        errno.EISDIR: "het is een map" if reading else "er staat een map met die naam",
        errno.ENAMETOOLONG: "de naam is te lang",
        errno.EBUSY: "het bestand is in gebruik",
        errno.EEXIST: "er staat al iets met die naam",
        errno.ENOTEMPTY: "de map is niet leeg",
        errno.EIO: "een lees- of schrijffout van de schijf",
        errno.EMFILE: "te veel bestanden tegelijk open",
        errno.ENFILE: "te veel bestanden tegelijk open",
        errno.ELOOP: "een snelkoppeling die naar zichzelf verwijst",
        errno.EXDEV: "de bestanden staan op verschillende schijven",
        errno.ESTALE: "de netwerkmap is niet meer bereikbaar",
        errno.ETXTBSY: "het bestand is in gebruik",
    }
    return reasons.get(exc.errno or -1, "het besturingssysteem weigerde")


class MailError(KvError):
    """Drafting or sending the e-mails cannot go on; the message says what to do."""


class DossierError(KvError):
    """The dossier (SQLite) cannot be opened, read or written."""
