"""The files around the tap agree with the tap and with each other.

meltano.yml, tap-voicegain.yml and README.md's settings table are compared with
the live ``tap-voicegain --about`` output, so a setting added to the tap fails
here until the files that repeat it are updated; each failure says how.
pyproject.toml, LICENSE, config.sample.json, .env.example, the Makefile and
.ci/run are checked for what a user or CI relies on.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import typing as t
from importlib import metadata

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests import project_files as files

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli below 3.11
    import tomli as tomllib

ROOT = files.REPO_ROOT
FIX_MELTANO_YML = (
    "declare it under plugins.extractors[tap-voicegain].settings in meltano.yml "
    "(name, kind, label, description; sensitive: true for secrets), then run "
    f"`{files.REGENERATE_DEFINITION}` and `{files.REGENERATE_README}`"
)
# JSON schema type of a setting -> Meltano kind (https://docs.meltano.com, the
# `kind` of a setting). Strings with an enum are `options`, date-times
# `date_iso8601`; a setting whose type is a union has no single kind to check.
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "decimal",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


@pytest.fixture(scope="module")
def about() -> dict[str, t.Any]:
    return files.about_json()


@pytest.fixture(scope="module")
def tap_settings(about) -> dict[str, dict[str, t.Any]]:
    return t.cast("dict[str, dict[str, t.Any]]", about["settings"]["properties"])


@pytest.fixture(scope="module")
def project() -> dict[str, t.Any]:
    return files.meltano_project()


@pytest.fixture(scope="module")
def definition() -> dict[str, t.Any]:
    return t.cast(
        "dict[str, t.Any]", yaml.safe_load(files.PLUGIN_DEFINITION.read_text())
    )


@pytest.fixture(scope="module")
def pyproject() -> dict[str, t.Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _extractors(project, definition) -> dict[str, dict[str, t.Any]]:
    """The two declarations of the tap that users get."""
    return {
        "meltano.yml": files.plugin(project, "extractors", files.EXTRACTOR),
        files.PLUGIN_DEFINITION.name: definition,
    }


def expected_kind(prop: dict[str, t.Any]) -> str | None:
    """The Meltano kind of a setting, or None when its type has no single kind."""
    types = prop.get("type")
    names = [types] if isinstance(types, str) else list(types or [])
    names = [name for name in names if name != "null"]
    if len(names) != 1:
        return None
    if "enum" in prop:
        return "options"
    if names[0] == "string" and prop.get("format") == "date-time":
        return "date_iso8601"
    return KINDS[names[0]]


def holds_a_secret(prop: t.Any) -> bool:
    """Whether a setting or anything nested in it is marked secret."""
    if isinstance(prop, dict):
        return prop.get("secret") is True or any(
            holds_a_secret(v) for v in prop.values()
        )
    if isinstance(prop, list):
        return any(holds_a_secret(v) for v in prop)
    return False


# ------------------------------------------------------------ meltano.yml


@pytest.mark.parametrize("where", ["meltano.yml", files.PLUGIN_DEFINITION.name])
def test_every_setting_the_tap_lists_is_declared_and_nothing_else(
    where, tap_settings, project, definition
):
    declared = [s["name"] for s in _extractors(project, definition)[where]["settings"]]
    assert len(declared) == len(set(declared)), f"{where}: a setting is declared twice"
    missing = sorted(set(tap_settings) - set(declared))
    assert not missing, (
        f"{where} lacks settings that `tap-voicegain --about` lists: {missing}; "
        + FIX_MELTANO_YML
    )
    unknown = sorted(set(declared) - set(tap_settings))
    assert not unknown, (
        f"{where} declares settings the tap does not have: {unknown}; remove them "
        f"from meltano.yml and run `{files.REGENERATE_DEFINITION}`"
    )


@pytest.mark.parametrize("where", ["meltano.yml", files.PLUGIN_DEFINITION.name])
def test_each_setting_has_the_kind_default_and_secrecy_the_tap_gives_it(
    where, tap_settings, project, definition
):
    declared = {
        s["name"]: s for s in _extractors(project, definition)[where]["settings"]
    }
    problems = []
    for name, prop in tap_settings.items():
        setting = declared.get(name)
        if setting is None:
            continue  # the test above names it
        problems.extend(
            f"{name}: no {field}"
            for field in ("kind", "label", "description")
            if not setting.get(field)
        )
        kind = expected_kind(prop)
        if kind is not None and setting.get("kind") != kind:
            problems.append(
                f"{name}: kind {setting.get('kind')!r}, but the tap's type "
                f"{prop.get('type')} wants {kind!r}"
            )
        if kind == "options":
            values = [o.get("value") for o in setting.get("options", [])]
            # null in the enum is the setting left unset, not an option.
            allowed = [v for v in prop["enum"] if v is not None]
            if values != allowed:
                problems.append(f"{name}: options {values}, the tap allows {allowed}")
        if bool(setting.get("sensitive")) != holds_a_secret(prop):
            problems.append(
                f"{name}: sensitive is {bool(setting.get('sensitive'))}, the tap "
                f"{'marks' if holds_a_secret(prop) else 'does not mark'} it secret"
            )
        # A `value` in meltano.yml is passed to the tap on every run, so it must be
        # the tap's own default, or a later change of that default never arrives.
        if "value" in setting and setting["value"] != prop.get("default"):
            problems.append(
                f"{name}: value {setting['value']!r}, the tap's default is "
                f"{prop.get('default')!r}"
            )
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("where", ["meltano.yml", files.PLUGIN_DEFINITION.name])
def test_the_capabilities_are_what_the_tap_has(where, about, project, definition):
    declared = _extractors(project, definition)[where]["capabilities"]
    assert sorted(declared) == sorted(about["capabilities"]), (
        f"{where} capabilities differ from `tap-voicegain --about`: "
        f"declared {declared}, the tap has {about['capabilities']}"
    )


@pytest.mark.parametrize("where", ["meltano.yml", files.PLUGIN_DEFINITION.name])
def test_only_the_calls_stream_is_selected_by_default(where, project, definition):
    # Without `select` Meltano selects *.*, so a stream added later (transcripts)
    # would start flowing into every existing pipeline.
    assert _extractors(project, definition)[where].get("select") == ["calls.*"]


def test_the_plugin_definition_is_meltano_yml_s_extractor_as_a_package(
    project, definition
):
    assert definition == files.plugin_definition(project), (
        f"{files.PLUGIN_DEFINITION.name} is stale; run `{files.REGENERATE_DEFINITION}`"
    )
    # Installable outside this repository: no editable path of this checkout.
    assert definition["pip_url"] == "tap-voicegain"
    assert definition["namespace"] == "tap_voicegain"


def test_meltano_yml_names_only_test_files_that_exist():
    named = set(re.findall(r"tests/[\w/]+\.py", files.MELTANO_YML.read_text()))
    assert named
    assert not [path for path in sorted(named) if not (ROOT / path).is_file()]


# ---------------------------------------------------------------- README


def test_readme_settings_table_is_what_about_prints():
    live = files.settings_table(files.about("markdown"))
    kept = files.readme_table(files.README.read_text())
    assert kept == live, (
        "README.md's settings table differs from `tap-voicegain --about "
        f"--format=markdown`; run `{files.REGENERATE_README}`"
    )


def test_readme_uses_meltano_4_s_config_command():
    readme = files.README.read_text()
    assert not re.search(r"meltano config [\w-]+ (set|list|unset)\b", readme), (
        "Meltano 4 takes `meltano config set PLUGIN NAME VALUE`"
    )
    assert "meltano config set tap-voicegain" in readme


def test_readme_stays_a_five_minute_read_and_its_links_resolve():
    # Design notes, figures and conventions belong in docs/, linked from README.
    readme = files.README.read_text()
    assert len(readme.splitlines()) <= 400, "README.md over 400 lines: move to docs/"
    broken = [
        f"{page.relative_to(ROOT)} -> {target}"
        for page in [files.README, *sorted((ROOT / "docs").glob("*.md"))]
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text())
        if not target.startswith(("http://", "https://", "mailto:"))
        and not (page.parent / target).exists()
    ]
    assert not broken, f"links to missing files: {broken}"


# -------------------------------------------------------------- pyproject


def test_the_licence_is_the_apache_2_text_pyproject_declares(pyproject):
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert pyproject["project"]["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_pyproject_names_authors_urls_and_every_python_ci_tests(pyproject):
    project = pyproject["project"]
    authors = [a["name"] for a in project["authors"]]
    assert authors
    placeholder = re.compile(r"your|todo|example|name", re.IGNORECASE)
    assert not [a for a in authors if placeholder.search(a)]
    assert project["urls"]
    assert all(url.startswith("https://") for url in project["urls"].values())

    classified = {
        c.rsplit(":: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    ci_run = (ROOT / ".ci/run").read_text()
    ci = re.search(r'^UNIT_PYTHONS="([^"]+)"', ci_run, re.MULTILINE)
    assert ci, ".ci/run no longer sets UNIT_PYTHONS"
    tested = {*ci.group(1).split(), f"{sys.version_info[0]}.{sys.version_info[1]}"}
    assert tested <= classified, f"untested or unclassified: {tested ^ classified}"
    lowest = min(classified, key=lambda v: tuple(map(int, v.split("."))))
    assert project["requires-python"] == f">={lowest}"


def _imported_top_level_modules() -> set[str]:
    modules: set[str] = set()
    for path in (ROOT / "tap_voicegain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"tap_voicegain", "__future__"}


def _module_providers() -> dict[str, set[str]]:
    """Top-level module -> installed distributions, read from their file lists.

    ``importlib.metadata.packages_distributions`` on Python 3.10 reads only
    ``top_level.txt``, which recent wheels no longer ship.
    """
    providers: dict[str, set[str]] = {}
    for dist in metadata.distributions():
        for path in dist.files or ():
            top = path.parts[0]
            if top == ".." or top.endswith((".dist-info", ".egg-info", ".pth")):
                continue
            module = top.split(".", 1)[0] if "." in top else top
            providers.setdefault(module, set()).add(dist.metadata["Name"])
    return providers


def test_every_distribution_the_tap_imports_is_a_declared_dependency(pyproject):
    declared = {}
    for line in pyproject["project"]["dependencies"]:
        requirement = Requirement(line)
        declared[canonicalize_name(requirement.name)] = requirement
    providers = _module_providers()
    problems = []
    for module in sorted(_imported_top_level_modules()):
        names = {canonicalize_name(d) for d in providers.get(module, [])}
        if not names:
            problems.append(f"{module}: no installed distribution provides it")
        elif not names & set(declared):
            problems.append(f"{module}: provided by {sorted(names)}, none declared")
        else:
            # typing-extensions must be there on 3.13 too, where the SDK stops
            # requiring it: no environment marker on what the tap imports.
            problems.extend(
                f"{module}: {declared[name]} is conditional"
                for name in sorted(names & set(declared))
                if declared[name].marker is not None
            )
    assert not problems, (
        "tap_voicegain imports modules pyproject.toml's dependencies do not "
        "guarantee:\n  " + "\n  ".join(problems)
    )


# ------------------------------------------------ sample config, .env.example


def test_the_sample_config_is_valid_for_the_tap(about, tap_settings):
    sample = json.loads((ROOT / "config.sample.json").read_text())
    assert set(sample) <= set(tap_settings)
    assert {"jwt_token", "api_url"} <= set(sample)
    validator = jsonschema.Draft202012Validator(
        {"type": "object", "properties": {k: tap_settings[k] for k in sample}}
    )
    errors = [e.message for e in validator.iter_errors(sample)]
    assert not errors


def test_env_example_names_only_settings_meltano_knows(tap_settings, project):
    text = (ROOT / ".env.example").read_text()
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE)
    assert "TAP_VOICEGAIN_JWT_TOKEN" in names
    known = {f"TAP_VOICEGAIN_{name.upper()}" for name in tap_settings}
    for loader in project["plugins"]["loaders"]:
        prefix = loader["name"].upper().replace("-", "_")
        known |= {f"{prefix}_{s['name'].upper()}" for s in loader["settings"]}
    assert not sorted(set(names) - known)


# ------------------------------------------------------- make, CI, markers


def _uv() -> str:
    uv = ROOT / ".venv-uv" / "bin" / "uv"
    if not uv.is_file():
        pytest.fail("no .venv-uv/bin/uv: `make install` installs it")
    return str(uv)


def test_the_plugin_virtualenv_gets_uv_lock_s_pins():
    # meltano.yml installs the tap with requirements/tap.txt as constraints;
    # `make lock` writes that file from uv.lock, and must have since it changed.
    tap = files.plugin(files.meltano_project(), "extractors", files.EXTRACTOR)
    assert tap["pip_url"] == ". --constraint requirements/tap.txt"
    proc = subprocess.run(
        [
            _uv(),
            *("export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"),
            *("--no-header", "--quiet", "--format", "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    kept = (ROOT / "requirements" / "tap.txt").read_text().splitlines()
    assert [line for line in kept if not line.startswith("#")] == (
        proc.stdout.splitlines()
    ), "requirements/tap.txt differs from uv.lock: run `make lock`"


def test_the_hashed_locks_pin_the_versions_the_makefile_names():
    makefile = (ROOT / "Makefile").read_text()
    for variable, lock, name in (
        ("UV_VERSION", "uv.txt", "uv"),
        ("MELTANO_VERSION", "meltano.txt", "meltano"),
    ):
        found = re.search(rf"^{variable} := (\S+)$", makefile, re.MULTILINE)
        assert found, f"the Makefile sets no {variable}"
        text = (ROOT / "requirements" / lock).read_text()
        pin = rf"^{name}=={re.escape(found.group(1))} \\$"
        assert re.search(pin, text, re.MULTILINE), (
            f"requirements/{lock} does not pin {name}=={found.group(1)}: make lock"
        )
        # Every pin carries its hashes (pip and uv install with --require-hashes).
        lines = text.splitlines()
        unhashed = [
            line
            for line, after in zip(lines, [*lines[1:], ""], strict=True)
            if re.match(r"[a-z0-9][\w.-]*==", line)
            and not after.startswith("    --hash=sha256:")
        ]
        assert not unhashed, f"requirements/{lock}: pins without hashes {unhashed}"


def test_test_fast_needs_no_meltano_and_skips_e2e_and_slow_tests():
    makefile = (ROOT / "Makefile").read_text()
    rule = re.search(r"^test-fast:([^#\n]*)(?:#.*)?\n\t(.+)$", makefile, re.MULTILINE)
    assert rule, "no test-fast rule in the Makefile"
    assert "meltano" not in rule.group(1).split()
    assert '-m "not e2e and not slow"' in rule.group(2)


@pytest.mark.slow  # collects the whole suite in a second pytest
def test_every_e2e_test_counts_as_slow():
    # tests/conftest.py marks them; `-m "not slow"` must leave none of them.
    proc = subprocess.run(
        [
            sys.executable,
            *("-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"),
            *("-m", "e2e and not slow", "tests"),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )
    assert "::" not in proc.stdout, proc.stdout
    assert proc.returncode == 5, proc.stdout + proc.stderr  # 5: nothing selected
