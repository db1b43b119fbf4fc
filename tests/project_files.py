"""What the tap says about itself, and the files derived from it.

``tap-voicegain --about`` is the one list of settings and capabilities. Three
files repeat parts of it for readers who cannot run the tap: meltano.yml (the
extractor's settings and kinds), tap-voicegain.yml (the same block as a plugin
definition for other Meltano projects) and README.md (the settings table).
tests/test_packaging.py compares them with the live output; this module also
rewrites the two derived ones:

    .venv/bin/python -m tests.project_files readme-settings     # make readme-settings
    .venv/bin/python -m tests.project_files plugin-definition   # make plugin-definition
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
MELTANO_YML = REPO_ROOT / "meltano.yml"
PLUGIN_DEFINITION = REPO_ROOT / "tap-voicegain.yml"
README = REPO_ROOT / "README.md"

EXTRACTOR = "tap-voicegain"
# What a project that adds the plugin from tap-voicegain.yml installs: the
# package, as a registry would serve it (README: "In your own Meltano project").
PACKAGE_PIP_URL = "tap-voicegain"

TABLE_START = "<!-- settings table: `make readme-settings` writes it from --about -->"
TABLE_END = "<!-- end of settings table -->"

REGENERATE_README = "make readme-settings"
REGENERATE_DEFINITION = "make plugin-definition"


def about(fmt: str) -> str:
    """What ``tap-voicegain --about --format=FMT`` prints, from this Python's tap."""
    proc = subprocess.run(
        [sys.executable, "-m", "tap_voicegain", "--about", f"--format={fmt}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        timeout=120,
    )
    if proc.returncode != 0:
        msg = f"tap-voicegain --about --format={fmt} failed:\n{proc.stderr}"
        raise RuntimeError(msg)
    return proc.stdout


def about_json() -> dict[str, t.Any]:
    """``--about --format=json``, parsed."""
    return t.cast("dict[str, t.Any]", json.loads(about("json")))


def settings_table(markdown: str) -> list[str]:
    """The rows of the table under ``## Settings`` in ``--about`` markdown."""
    lines = markdown.splitlines()
    start = lines.index("## Settings")
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append(line.rstrip())
        elif table:
            break
    if not table:
        msg = "no settings table under '## Settings' in the --about markdown"
        raise ValueError(msg)
    return table


def readme_table(readme: str) -> list[str]:
    """The settings table README.md holds between its two markers."""
    lines = readme.splitlines()
    try:
        start, end = lines.index(TABLE_START), lines.index(TABLE_END)
    except ValueError:
        msg = f"README.md lacks the lines {TABLE_START!r} and {TABLE_END!r}"
        raise ValueError(msg) from None
    return [line.rstrip() for line in lines[start + 1 : end] if line.strip()]


def readme_with_table(readme: str, table: list[str]) -> str:
    """README.md's text with ``table`` between the markers."""
    lines = readme.splitlines()
    start, end = lines.index(TABLE_START), lines.index(TABLE_END)
    new = [*lines[: start + 1], *table, *lines[end:]]
    return "\n".join(new) + ("\n" if readme.endswith("\n") else "")


def meltano_project() -> dict[str, t.Any]:
    """meltano.yml, parsed."""
    return t.cast("dict[str, t.Any]", yaml.safe_load(MELTANO_YML.read_text()))


def plugin(project: dict[str, t.Any], kind: str, name: str) -> dict[str, t.Any]:
    """The one plugin ``name`` of ``kind`` (extractors, loaders) in a project."""
    found = [p for p in project["plugins"][kind] if p["name"] == name]
    if len(found) != 1:
        msg = f"{kind} {name} is declared {len(found)} times in meltano.yml"
        raise ValueError(msg)
    return t.cast("dict[str, t.Any]", found[0])


def plugin_definition(project: dict[str, t.Any]) -> dict[str, t.Any]:
    """tap-voicegain.yml's content: meltano.yml's extractor, installed as a package."""
    extractor = plugin(project, "extractors", EXTRACTOR)
    definition: dict[str, t.Any] = {
        "name": extractor["name"],
        "namespace": extractor["namespace"],
        "label": "Voicegain",
        "description": "Voicegain Speech Analytics calls",
        "pip_url": PACKAGE_PIP_URL,
        "executable": extractor["executable"],
    }
    for key in ("capabilities", "select", "settings_group_validation", "settings"):
        if key in extractor:
            definition[key] = extractor[key]
    return definition


def render_plugin_definition(project: dict[str, t.Any]) -> str:
    """tap-voicegain.yml's text."""
    header = "\n".join(
        [
            "# Meltano plugin definition of tap-voicegain, for your own project:",
            "#   meltano add --plugin-type extractor tap-voicegain \\",
            "#     --from-ref tap-voicegain.yml",
            "#   meltano select tap-voicegain calls '*'",
            "# (Meltano 4 ignores the `select` below when adding from a definition.)",
            "# README.md, 'In your own Meltano project', says more.",
            "#",
            f"# Written from meltano.yml by `{REGENERATE_DEFINITION}`: edit that.",
            "",
        ]
    )
    body: str = yaml.safe_dump(
        plugin_definition(project),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=88,
    )
    return header + body


def main(argv: list[str]) -> int:
    """Rewrite README's settings table or tap-voicegain.yml."""
    if argv == ["readme-settings"]:
        table = settings_table(about("markdown"))
        README.write_text(readme_with_table(README.read_text(), table))
        sys.stdout.write(f"README.md: settings table of {len(table) - 2} rows\n")
        return 0
    if argv == ["plugin-definition"]:
        PLUGIN_DEFINITION.write_text(render_plugin_definition(meltano_project()))
        sys.stdout.write(f"{PLUGIN_DEFINITION.name} written from meltano.yml\n")
        return 0
    sys.stderr.write(
        "usage: python -m tests.project_files readme-settings|plugin-definition\n"
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
