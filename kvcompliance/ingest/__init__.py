"""Finding input files and reading returns made from the form.

The reader is built for speed (thousands of files) and for files as providers really send
them. One module per concern, each importing only the ones listed before it:

- :mod:`~.reasons` — every refusal, by its key in ``schemas/bestanden.toml``;
- :mod:`~.references` — cell references (``B7``) and the targets of defined names;
- :mod:`~.inbox` — finding the files and what is skipped on purpose (:func:`survey`,
  :func:`discover`) and their provenance (:func:`source_file`);
- :mod:`~.containers` — zip and OLE2 containers and their guards (size, zip bombs, part
  counts, password protection through olefile and msoffcrypto-tool);
- :mod:`~.parts` — the XML parts of a package, parsed safely (defusedxml);
- :mod:`~.scans` — what python-calamine shows as empty: error cells, formulas without a value;
- :mod:`~.names` — sheets and defined names (``kv_<key>``);
- :mod:`~.sniff` — recognising a file and refusing what cannot be a return, before any
  library unpacks it;
- :mod:`~.cells` — cell values, read with python-calamine;
- :mod:`~.locate` — where each field is: by defined name, else by its label;
- :mod:`~.record` — one return (:func:`read_return`);
- :mod:`~.worker` — reading an audit's files in reader processes with a memory limit.

Every problem with a file becomes :class:`~kvcompliance.errors.UnreadableFile` with a plain
Dutch reason and a short ``kind``; no other exception escapes :func:`read_return` for bad input.
"""

from kvcompliance.ingest.inbox import discover, source_file, survey
from kvcompliance.ingest.record import read_return

__all__ = ["discover", "read_return", "source_file", "survey"]
