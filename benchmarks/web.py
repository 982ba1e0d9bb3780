"""The browser against the CLI: N returns added and audited through ``kvcompliance web``.

    python tools/make_samples.py /tmp/bench1000 --aantal 1000
    python benchmarks/web.py /tmp/bench1000

1. ``kvcompliance audit MAP -o UIT --jaar J --stil`` in a fresh process (wall time).
2. ``kvcompliance web --geen-browser`` in a fresh process; Chromium (the distribution's,
   through Playwright) opens it, makes an audit, adds every file of MAP with the file
   chooser, starts the audit and waits until the call list shows every return. Measured
   from choosing the files to the call list on screen, and per part.
3. While the audit runs, another client asks the server for the progress every 300 ms (as
   the page does) and for the start page every 2 s: the slowest answer says whether the
   pages stay responsive. The run's own time (click to result received, as the server
   reports it) is printed beside the rest (result to call list on screen).

The two are measured in ``--rondes`` interleaved rounds (default 2); the fastest of each
counts, as the speed of a shared machine drifts.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def cli_run(inbox: Path, year: int, work: Path) -> float:
    out = work / "cli-uitvoer"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(["kvcompliance", "audit", str(inbox), "-o", str(out), "--jaar", str(year), "--stil"],
                   stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


class Poller(threading.Thread):
    """Asks for the progress every 300 ms and the start page every 2 s; keeps the slowest answer."""

    def __init__(self, port: int, cookie: str, audit: str):
        super().__init__(daemon=True)
        self.port, self.cookie, self.audit = port, cookie, audit
        self.slowest = 0.0
        self.count = 0
        self.run_seconds = None  # the run's time as the server reports it when it is done
        self.stop = threading.Event()

    def ask(self, path: str) -> bytes:
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", path, headers={"Cookie": self.cookie, "Host": f"127.0.0.1:{self.port}"})
        body = connection.getresponse().read()
        connection.close()
        self.slowest = max(self.slowest, time.perf_counter() - start)
        self.count += 1
        return body

    def run(self) -> None:
        import json

        last_page = 0.0
        while not self.stop.is_set():
            state = json.loads(self.ask(f"/controles/{self.audit}/voortgang"))
            if state.get("toestand") == "klaar" and self.run_seconds is None:
                self.run_seconds = state["seconden"]
            if time.monotonic() - last_page > 2:
                self.ask("/")
                last_page = time.monotonic()
            time.sleep(0.3)


def web_run(inbox: Path, year: int, work: Path) -> dict:
    from playwright.sync_api import expect, sync_playwright

    root = work / "werkmap"
    shutil.rmtree(root, ignore_errors=True)
    server = subprocess.Popen(["kvcompliance", "web", "--werkmap", str(root), "--geen-browser"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = re.search(r"(http://\S+)", server.stdout.readline()).group(1)
        port = int(re.search(r":(\d+)/", url).group(1))
        token = url.rsplit("=", 1)[1]
        files = sorted(str(p) for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(url)
            page.fill("#jaar", str(year))
            page.click("text=Controle aanmaken")
            page.wait_for_url("**/controles/controle-*")
            audit = page.url.rsplit("/", 1)[1]
            start = time.perf_counter()
            page.set_input_files("#kies-bestanden", files)
            expect(page.locator("#toevoegen-tekst")).to_contain_text("toegevoegd", timeout=600_000)
            added = time.perf_counter()
            poller = Poller(port, f"kvcompliance_{port}={token}", audit)
            page.click("#start")
            poller.start()
            page.wait_for_url("**/resultaten", timeout=600_000)
            rows = page.locator("#bellijst tbody tr").count()
            shown = time.perf_counter()
            poller.stop.set()
            browser.close()
        poller.join()
        return {"upload": added - start, "audit": shown - added, "total": shown - start, "rows": rows,
                "run": poller.run_seconds, "slowest": poller.slowest, "asked": poller.count}
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("map", type=Path)
    parser.add_argument("--jaar", type=int, default=2025)
    parser.add_argument("--rondes", type=int, default=2)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kvc-web-bench-"))
    try:
        cli, web = [], []
        for round_ in range(1, args.rondes + 1):
            cli.append(cli_run(args.map, args.jaar, work))
            web.append(web_run(args.map, args.jaar, work))
            w = web[-1]
            print(f"ronde {round_}: CLI {cli[-1]:.1f} s; browser {w['total']:.1f} s = toevoegen {w['upload']:.1f} s +"
                  f" controleren tot de bellijst {w['audit']:.1f} s (waarvan de controle zelf {w['run']} s), {w['rows']} rijen;"
                  f" browser/CLI {w['total'] / cli[-1]:.2f}; traagste antwoord tijdens de controle"
                  f" {w['slowest'] * 1000:.0f} ms ({w['asked']} vragen)", file=sys.stderr)
        best_cli = min(cli)
        best = min(web, key=lambda w: w["total"])
        print(f"CLI: {best_cli:.1f} s")
        print(f"browser: {best['total']:.1f} s = toevoegen {best['upload']:.1f} s + controleren tot de bellijst {best['audit']:.1f} s")
        ratios = ", ".join(f"{w['total'] / c:.2f}" for w, c in zip(web, cli))
        print(f"browser / CLI, snelste tegen snelste: {best['total'] / best_cli:.2f} (eis: hoogstens 1,5); per ronde: {ratios}")
        print(f"traagste antwoord van de server tijdens de controle: {max(w['slowest'] for w in web) * 1000:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
