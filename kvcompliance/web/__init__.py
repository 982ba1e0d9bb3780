"""kvcompliance in the browser: a local web app over the same library the CLI uses.

- :mod:`~.workspace` — the work folder: one sub-folder per audit (returns, inputs, output)
  and its small JSON record; the files an officer can choose;
- :mod:`~.uploads` — storing what the browser sends under names the server chooses, and
  unpacking zip files with the reader's container guards;
- :mod:`~.runner` — the audit in a separate process (``run_audit`` + ``write_reports``,
  exactly as ``kvcompliance audit``), its progress, its result;
- :mod:`~.extras` — the e-mail drafts (as ``kvcompliance verzend``) and whether the
  dossier is there;
- :mod:`~.security` — token, Host and Origin checks and the security headers on every
  response;
- :mod:`~.state` — what the routes share (work folder, runs, results, templates);
- :mod:`~.app` — the start and audit pages and running; :mod:`~.inputs` — the files an
  audit is given; :mod:`~.intake` — adding returns; :mod:`~.pages` — results and the page
  per return; :mod:`~.downloads` — the files to download. Each calls the library and
  renders a template;
- :mod:`~.server` — listening on 127.0.0.1 with uvicorn.

No rule logic lives here: pages show what the library computed, downloads are the files
the library wrote.
"""
