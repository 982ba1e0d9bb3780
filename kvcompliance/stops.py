"""Stops (Ctrl-C, SIGTERM) at the commit point of a run: before it, a stop leaves
everything as it was; from it on, a stop is noted and the run finishes, with no moment
in between in which a stop would be reported as "nothing changed" although the new
output is in place.

A command gives a :class:`LateStops` to :class:`kvcompliance.outputs.OutputFolder`
(``stops=``); its commit replaces the handlers of SIGINT and SIGTERM just before the
commit point, so that a stop that arrives later can no longer cut short what belongs to
the committed run (storing it in the dossier, the report), and the command can say that
the stop came too late. The command puts the handlers back (:meth:`LateStops.release`)
when it is done. The handlers are only replaced in the main thread, where Python runs
them.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

#: The signals that stop a run.
STOPS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None)) if s is not None)


class LateStops:
    """Notes the stops that arrive once :meth:`hold` is called, instead of stopping."""

    def __init__(self) -> None:
        #: The first stop that arrived while held (None: none did).
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def hold(self) -> None:
        """From now on a stop is noted in :attr:`signum`, not raised (main thread only)."""
        if threading.current_thread() is not threading.main_thread() or self._previous:
            return
        for signum in STOPS:
            self._previous[signum] = signal.signal(signum, self._note)

    def release(self) -> None:
        """Put the handlers back as they were before :meth:`hold` (a stop noted is dropped)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()

    def __enter__(self) -> LateStops:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _note(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
