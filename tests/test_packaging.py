"""The dependency ranges pyproject.toml declares are the ranges CI tests.

CI (.ci/run) runs the suite on the newest versions and, with the constraints file
.ci/lowest.txt, on the lowest: these tests keep that file equal to the lower bounds.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOWEST = ROOT / ".ci" / "lowest.txt"
FIXTURES = ROOT / "tests" / "fixtures"


def lower_bounds() -> dict[str, Version]:
    """Each dependency and test dependency of pyproject.toml with its lower bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bounds = {}
    for text in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        requirement = Requirement(text)
        lows = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
        assert len(lows) == 1, f"{text}: every dependency needs one lower bound (>=), the version CI tests"
        bounds[canonicalize_name(requirement.name)] = lows[0]
    return bounds


def pins() -> dict[str, tuple[Version, str]]:
    """Each pin of .ci/lowest.txt: its version and the comment just above it."""
    found, comment = {}, ""
    for line in LOWEST.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            comment = line
            continue
        if not line:
            continue
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"{line}: .ci/lowest.txt pins exact versions"
        found[canonicalize_name(requirement.name)] = (Version(spec.version), comment)
    return found


def test_lowest_pins_are_the_lower_bounds_of_pyproject():
    bounds, pinned = lower_bounds(), pins()
    for name, bound in bounds.items():
        assert name in pinned, f"{name} has no pin in .ci/lowest.txt: CI would not test its lowest version"
        assert pinned[name][0] == bound, f"{name}: .ci/lowest.txt pins {pinned[name][0]}, pyproject.toml allows {bound}"


def test_a_pin_of_a_library_we_do_not_declare_says_why():
    bounds = lower_bounds()
    for name, (_, comment) in pins().items():
        if name not in bounds:
            assert "needed" in comment, f"{name} is pinned in .ci/lowest.txt without saying why"


def test_ci_runs_the_suite_on_the_lowest_pins_too():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -q -c .ci/lowest.txt -e ".[test]"' in ci
    assert ci.count("python -m pytest") == 2


READ = """
import sys
from pathlib import Path
from kvcompliance.catalogue import load_catalogue
from kvcompliance.errors import UnreadableFile
from kvcompliance.ingest import read_return, source_file
path = Path(sys.argv[1])
try:
    read_return(path, source_file(path, path.parent), "R", load_catalogue())
except UnreadableFile as error:
    print(error.kind)
"""


def test_a_damaged_xls_is_refused_not_a_crash(tmp_path):
    """Why python-calamine >= 0.6: before it, one wrong byte in an .xls header (a sector
    number of the FAT list, here pointing far beyond the file) made calamine allocate
    some 2 TB and abort the whole process. Read in a child process, so that an abort
    fails this test instead of ending the test run."""
    data = bytearray((FIXTURES / "opgave.xls").read_bytes())
    data[170] = 0xEB  # in the header's list of FAT sectors: an unused entry becomes a huge sector number
    path = tmp_path / "beschadigd.xls"
    path.write_bytes(bytes(data))
    done = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "onleesbaar"
