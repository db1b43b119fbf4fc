"""What the tap says about itself, and the files derived from it.

``tap-voicegain --about`` is the one list of settings and capabilities. Three
files repeat parts of it for readers who cannot run the tap: meltano.yml (the
extractor's settings and kinds), tap-voicegain.yml (the same block as a plugin
definition for other Meltano projects) and README.md (the settings table).
tests/test_packaging.py compares them with the live output; this module also
rewrites the two derived ones:

    .venv/bin/python -m tests.project_files readme-settings     # make readme-settings
    .venv/bin/python -m tests.project_files plugin-definition   # make plugin-definition

``lock-diff`` (run by ``make test-latest`` with the throwaway virtualenv's
Python) lists the installed distributions whose version differs from uv.lock.
"""

from __future__ import annotations

import json
import re
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
# distribution `make dist` builds, by the name PyPI will serve it under once the
# first release is published (docs/releasing.md). Until then it is not on PyPI,
# and README's "In your own Meltano project" sets pip_url to a checkout instead.
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


def pyproject() -> dict[str, t.Any]:
    """pyproject.toml, parsed."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415
    else:  # pytest depends on tomli below 3.11
        import tomli as tomllib  # noqa: PLC0415
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


# What Meltano Hub asks of an extractor beyond meltano.yml's block (its schema,
# schemas/plugin_definitions/extractors.schema.json of meltano/hub, requires
# name, namespace, variant and quality; hub-utils' `add` writes the rest). The
# repository and docs URLs come from pyproject.toml's [project.urls].
HUB_METADATA: dict[str, t.Any] = {
    "label": "Voicegain",
    "description": "Voicegain Speech Analytics calls and their transcripts",
    # The Hub serves logos from its own static/assets (docs/releasing.md).
    "logo_url": "/assets/logos/extractors/voicegain.png",
    "domain_url": "https://www.voicegain.ai",
    "keywords": ["meltano_sdk", "api", "speech_analytics", "call_center"],
    # Hub values: active, beta, development, inactive, unknown. "beta" matches
    # pyproject.toml's "Development Status :: 4 - Beta" (a test checks both).
    "maintenance_status": "beta",
    # The Hub rates quality itself (hub-utils update-quality); new ones start here.
    "quality": "unknown",
}


def plugin_definition(project: dict[str, t.Any]) -> dict[str, t.Any]:
    """tap-voicegain.yml's content: meltano.yml's extractor, installed as a package.

    Plus the Hub's metadata (HUB_METADATA, pyproject.toml's URLs and Python
    classifiers), in the order a reader looks for them.
    """
    extractor = plugin(project, "extractors", EXTRACTOR)
    meta = pyproject()["project"]
    urls = meta["urls"]
    owner = urls["Repository"].rstrip("/").split("/")[-2]
    pythons = [
        c.rsplit(":: ", 1)[1]
        for c in meta["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    ]
    definition: dict[str, t.Any] = {
        "name": extractor["name"],
        # A variant is the maintainer's namespace on the Hub: the repo's owner.
        "variant": owner.lower(),
        "namespace": extractor["namespace"],
        "label": HUB_METADATA["label"],
        "description": HUB_METADATA["description"],
        "logo_url": HUB_METADATA["logo_url"],
        "domain_url": HUB_METADATA["domain_url"],
        "docs": urls["Documentation"],
        "repo": urls["Repository"],
        "pip_url": PACKAGE_PIP_URL,
        "executable": extractor["executable"],
        "keywords": HUB_METADATA["keywords"],
        "maintenance_status": HUB_METADATA["maintenance_status"],
        "quality": HUB_METADATA["quality"],
        "supported_python_versions": pythons,
    }
    for key in ("capabilities", "select", "settings_group_validation"):
        if key in extractor:
            definition[key] = extractor[key]
    # This repository's meltano.yml turns log parsing off for its demo (plain
    # METRIC lines); users get the SDK's parser, as hub-utils writes it.
    definition["log_parser"] = "singer-sdk"
    definition["settings"] = extractor["settings"]
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
            "# pip_url is the package on PyPI once released; until then point it at",
            "# a checkout: README.md, 'In your own Meltano project', says how.",
            "# The Hub's fields (variant, quality, ...) follow meltano/hub's",
            "# schemas/plugin_definitions/extractors.schema.json.",
            "#",
            f"# Written by `{REGENERATE_DEFINITION}` from meltano.yml, pyproject.toml",
            "# and HUB_METADATA in tests/project_files.py: edit those.",
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


def locked_versions(lock_text: str) -> dict[str, set[str]]:
    """Distribution name -> the versions uv.lock holds (one per Python range)."""
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - only for lock-diff
    else:  # pytest depends on tomli below 3.11
        import tomli as tomllib  # noqa: PLC0415

    locked: dict[str, set[str]] = {}
    for package in tomllib.loads(lock_text).get("package", []):
        if "version" in package:  # the project itself has a dynamic version
            locked.setdefault(_canonical(package["name"]), set()).add(
                package["version"]
            )
    return locked


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_diff() -> list[str]:
    """Lines naming each installed distribution whose version uv.lock lacks."""
    from importlib import metadata  # noqa: PLC0415 - only for lock-diff

    locked = locked_versions((REPO_ROOT / "uv.lock").read_text())
    lines = []
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"]):
        name = _canonical(dist.metadata["Name"])
        if name == EXTRACTOR:
            continue
        versions = locked.get(name)
        if versions is None:
            lines.append(f"{name} {dist.version}: not in uv.lock")
        elif dist.version not in versions:
            lines.append(
                f"{name} {dist.version}: uv.lock has {', '.join(sorted(versions))}"
            )
    return lines


def main(argv: list[str]) -> int:
    """Rewrite README's settings table or tap-voicegain.yml; or compare with uv.lock."""
    if argv == ["readme-settings"]:
        table = settings_table(about("markdown"))
        README.write_text(readme_with_table(README.read_text(), table))
        sys.stdout.write(f"README.md: settings table of {len(table) - 2} rows\n")
        return 0
    if argv == ["plugin-definition"]:
        PLUGIN_DEFINITION.write_text(render_plugin_definition(meltano_project()))
        sys.stdout.write(f"{PLUGIN_DEFINITION.name} written from meltano.yml\n")
        return 0
    if argv == ["lock-diff"]:
        lines = lock_diff()
        sys.stdout.write(
            f"Versions that differ from uv.lock ({sys.version.split()[0]}):\n  "
            + ("\n  ".join(lines) if lines else "none")
            + "\n"
        )
        return 0
    sys.stderr.write(
        "usage: python -m tests.project_files "
        "readme-settings|plugin-definition|lock-diff\n"
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
