"""The README and the help texts say what the tool does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from kvcompliance.catalogue import load_catalogue
from kvcompliance.cli import main
from kvcompliance.docs import render_readme

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_rules_table_is_generated_from_the_catalogue():
    text = README.read_text(encoding="utf-8")
    assert render_readme(text) == text, "README is verouderd: draai python -m kvcompliance.docs"
    for rule in load_catalogue().rules:
        assert f"| {rule.id} | {rule.title} |" in text


def test_readme_holds_the_two_commands_and_ci_runs_the_test_command():
    text = README.read_text(encoding="utf-8")
    blocks = [b.split("```")[0].strip() for b in text.split("```sh\n")[1:]]
    assert len(blocks) == 2
    assert "kvcompliance audit sample_workbooks" in blocks[0]
    assert blocks[1].endswith("python -m pytest")
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci


def test_every_command_has_dutch_help_with_an_example():
    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0
    assert "Gebruik:" in top.output and "Commando's" in top.output
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Voorbeeld:" in result.output, name
        assert "Opties:" in result.output and "Toon deze hulp en stop." in result.output
        assert "Show this message" not in result.output


def test_help_does_not_import_pandas_or_pandera():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from kvcompliance.cli import main\n"
        "for args in (['--help'], ['audit', '--help'], ['template', '--help'], ['regels', '--help']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0\n"
        "heavy = [m for m in ('pandas', 'pandera', 'xlsxwriter', 'openpyxl', 'python_calamine') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_usage_errors_are_dutch_and_exit_2(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["audit", str(tmp_path / "bestaat-niet")])
    assert result.exit_code == 2
    assert "bestaat niet" in result.output
    result = runner.invoke(main, ["audit", str(tmp_path), "--jaar", "twintig"])
    assert result.exit_code == 2
    assert "geen geldig jaartal" in result.output


def test_the_readme_rules_example_works_and_keeps_the_other_levels(tmp_path):
    from kvcompliance.catalogue import Status

    text = README.read_text(encoding="utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "regels.toml"
    path.write_text(example, encoding="utf-8")
    catalogue = load_catalogue(str(path))
    levels = {lvl.status: lvl.value for lvl in catalogue.rule("KV07").levels}
    assert levels == {Status.GRIJS: 1, Status.ROOD: 0.5, Status.ORANJE: 0.9}
    assert catalogue.warnings == () and catalogue.rule("KV07").adopted.startswith("Regio Eemvallei")


def test_readme_gives_the_same_two_commands_for_windows_powershell():
    text = README.read_text(encoding="utf-8")
    blocks = [b.split("```")[0].strip() for b in text.split("```powershell\n")[1:]]
    assert len(blocks) == 2
    assert blocks[0].startswith("py -m venv .venv; .venv\\Scripts\\Activate.ps1;")
    assert blocks[0].endswith("kvcompliance audit sample_workbooks -o uitvoer")
    assert blocks[1].endswith("python -m pytest")
    assert "exitcode 1" in text and "begroting_2026.xlsx" in text


def test_every_command_is_in_the_readme():
    text = README.read_text(encoding="utf-8")
    for name in main.commands:
        assert f"`kvcompliance {name}" in text, name


def test_regels_and_the_readme_name_sectors_by_their_dutch_label():
    """The sector keys of the TOML ('jgz', 'wmo') are not what an officer reads."""
    from kvcompliance.explain import rules_table

    shown = rules_table(load_catalogue(), width=2000)  # what kvcompliance regels prints, on one line per rule
    readme = README.read_text(encoding="utf-8")
    for text in (shown, readme):
        assert "jeugdhulp 0,5, jeugdgezondheidszorg 0,3," in text and "Wmo 0,1" in text
        assert "jgz 0,3" not in text and "wmo 0,1" not in text
