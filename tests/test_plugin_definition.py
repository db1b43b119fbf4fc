"""tap-voicegain.yml is a plugin definition Meltano Hub would accept.

What the Hub requires is its own JSON schema, vendored in
tests/hub/extractor_definition.schema.json (meltano/hub,
schemas/plugin_definitions/extractors.schema.json and the files it references;
the source commit is in its ``$comment``). The schema requires only name,
namespace, variant and quality; the other fields checked here are the ones the
Hub's own tool, hub-utils, writes for a new SDK-based extractor
(hub-utils/hub_utils/utilities.py, ``_boilerplate_definition``), which its plugin
pages render. Settings, kinds and capabilities against ``--about`` are checked
in tests/test_packaging.py for both meltano.yml and this file.
"""

from __future__ import annotations

import json
import re
import typing as t

import jsonschema
import pytest
import yaml

from tests import project_files as files

HUB_SCHEMA = files.REPO_ROOT / "tests" / "hub" / "extractor_definition.schema.json"
# hub-utils' `_boilerplate_definition` writes each of these (its `next_steps`,
# `settings_preamble` and `usage` are empty strings there, so optional here).
HUB_FIELDS = (
    "name",
    "variant",
    "namespace",
    "label",
    "description",
    "logo_url",
    "domain_url",
    "docs",
    "repo",
    "pip_url",
    "executable",
    "keywords",
    "maintenance_status",
    "quality",
    "capabilities",
    "settings",
    "settings_group_validation",
    "supported_python_versions",
)
# pyproject.toml's "Development Status" classifier -> the Hub's maintenance_status.
MAINTENANCE = {
    "1 - Planning": "development",
    "2 - Pre-Alpha": "development",
    "3 - Alpha": "development",
    "4 - Beta": "beta",
    "5 - Production/Stable": "active",
    "6 - Mature": "active",
    "7 - Inactive": "inactive",
}


@pytest.fixture(scope="module")
def definition() -> dict[str, t.Any]:
    return t.cast(
        "dict[str, t.Any]", yaml.safe_load(files.PLUGIN_DEFINITION.read_text())
    )


@pytest.fixture(scope="module")
def project_meta() -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", files.pyproject()["project"])


def test_the_definition_passes_meltano_hubs_extractor_schema(definition):
    schema = json.loads(HUB_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(definition)
    ]
    assert not problems, (
        f"{files.PLUGIN_DEFINITION.name} fails Meltano Hub's schema:\n  "
        + "\n  ".join(problems)
        + f"\nFix meltano.yml or HUB_METADATA, then `{files.REGENERATE_DEFINITION}`"
    )


def test_the_definition_fills_every_field_a_hub_page_shows(definition):
    missing = [field for field in HUB_FIELDS if not definition.get(field)]
    assert not missing, f"{files.PLUGIN_DEFINITION.name} lacks {missing}"
    for field in ("domain_url", "docs", "repo"):
        assert definition[field].startswith("https://"), field
    # The Hub serves logos from its static/assets/logos/<plugin type>/.
    assert re.fullmatch(
        r"/assets/logos/extractors/[a-z0-9-]+\.png", definition["logo_url"]
    )
    assert "meltano_sdk" in definition["keywords"]


def test_the_definition_names_the_package_pyproject_builds(definition, project_meta):
    assert definition["pip_url"] == project_meta["name"]
    assert definition["executable"] in project_meta["scripts"]
    urls = project_meta["urls"]
    assert definition["repo"] == urls["Repository"]
    assert definition["docs"] == urls["Documentation"]
    # The Hub's variant is the maintainer's namespace: the repository's owner.
    assert definition["variant"] == urls["Repository"].split("/")[-2].lower()
    (status,) = [
        c.split(" :: ", 1)[1]
        for c in project_meta["classifiers"]
        if c.startswith("Development Status ::")
    ]
    assert definition["maintenance_status"] == MAINTENANCE[status]


def test_the_definition_says_what_about_says_of_pythons_and_logs(definition):
    about = files.about_json()
    assert definition["supported_python_versions"] == about["supported_python_versions"]
    # What hub-utils writes for an SDK tap with structured logging.
    assert "structured-logging" in about["capabilities"]
    assert definition["log_parser"] == "singer-sdk"
