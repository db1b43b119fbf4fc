"""The built distribution, as a user gets it: installed alone, it runs.

`make dist` builds and checks dist/; these tests build their own copies in a
temporary directory, with the uv the Makefile installs (.venv-uv), so they need
no network but PyPI and leave the checkout alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import typing as t

import pytest
from packaging.version import Version

from tests import check_dist
from tests import project_files as files

if t.TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

ROOT = files.REPO_ROOT


def _uv() -> str:
    uv = ROOT / ".venv-uv" / "bin" / "uv"
    if uv.is_file():
        return str(uv)
    found = shutil.which("uv")
    if found is None:
        pytest.fail("no uv: `make install` puts it in .venv-uv")
    return found


def _env() -> dict[str, str]:
    # Nothing of the dev virtualenv or this checkout leaks into the clean one.
    env = {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}
    }
    return {**env, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}


def _run(*args: str | Path, cwd: Path) -> str:
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, f"{' '.join(map(str, args))}:\n{proc.stderr[-3000:]}"
    return proc.stdout


def _build(source: Path, out: Path, *only: str) -> Path:
    _run(
        _uv(),
        "build",
        "--quiet",
        "--python",
        sys.executable,
        "--out-dir",
        out,
        *only,
        source,
        cwd=source,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def test_the_wheel_installed_alone_runs_about_with_its_own_version(tmp_path):
    dist = tmp_path / "dist"
    wheel = _build(ROOT, dist)  # the sdist first, then the wheel from it, as make dist
    assert check_dist.main([str(dist)]) == 0
    version = wheel.name.split("-")[1]
    Version(version)  # a PEP 440 version, from a tag or counted from the fallback

    # Exactly the locked versions of the tap's own dependencies, nothing else.
    constraints = tmp_path / "constraints.txt"
    _run(
        _uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes",
        "--quiet", "--output-file", constraints, cwd=ROOT,
    )  # fmt: skip
    venv = tmp_path / "venv"
    _run(_uv(), "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        _uv(), "pip", "install", "--quiet", "--python", python,
        "--constraint", constraints, wheel, cwd=tmp_path,
    )  # fmt: skip

    about = json.loads(
        _run(venv / "bin" / "tap-voicegain", "--about", "--format=json", cwd=tmp_path)
    )
    assert about["name"] == "tap-voicegain"
    assert about["version"] == version
    dev = files.about_json()
    assert list(about["settings"]["properties"]) == list(dev["settings"]["properties"])
    assert about["capabilities"] == dev["capabilities"]

    # Only the tap came with it: not the simulator, not the tests.
    found = _run(
        python, "-c",
        "import importlib.util as u; print([m for m in ('voicegain_sim', 'tests', "
        "'benchmarks', 'demo') if u.find_spec(m)])",
        cwd=tmp_path,
    )  # fmt: skip
    assert found.strip() == "[]"


def test_a_copy_without_git_history_builds_as_the_fallback_version(tmp_path):
    # `git archive` gives the tree of HEAD without .git, like a source tarball.
    archive = tmp_path / "tree.tar"
    _run("git", "archive", "--format=tar", "--output", archive, "HEAD", cwd=ROOT)
    tree = tmp_path / "tree"
    tree.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    wheel = _build(tree, tmp_path / "dist", "--wheel")
    fallback = files.pyproject()["tool"]["hatch"]["version"]["fallback-version"]
    assert wheel.name.split("-")[1] == fallback


def test_a_clone_without_tags_builds_a_development_version(tmp_path):
    clone = tmp_path / "clone"
    _run("git", "clone", "--quiet", "--no-tags", ROOT, clone, cwd=tmp_path)
    wheel = _build(clone, tmp_path / "dist", "--wheel")
    version = Version(wheel.name.split("-")[1])
    fallback = Version(
        files.pyproject()["tool"]["hatch"]["version"]["fallback-version"]
    )
    # Counted on from the fallback, marked as a development build of one commit.
    assert version.is_devrelease
    assert version > fallback
    assert t.cast("str", version.local).startswith("g")
