"""Check what `make dist` built: the wheel ships the tap and its licence, nothing else.

Standard library only, so any Python runs it: ``python tests/check_dist.py dist``.
twine (``twine check --strict``, run by `make dist` first) checks the metadata
and that the README renders; this checks the contents:

- one wheel and one sdist, of the same version;
- the wheel holds ``tap_voicegain/`` (every module of the sdist's copy) and its
  ``.dist-info`` with the licence, the console script and the Apache-2.0
  expression; no simulator, tests, demo or benchmarks;
- the sdist holds the sources a rebuild needs (pyproject.toml, README.md,
  LICENSE, CHANGELOG.md, tap_voicegain/) and no virtualenv or local output.

tests/test_dist.py runs the same checks on a wheel it builds.
"""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

PACKAGE = "tap_voicegain"
SDIST_NEEDS = ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md", "PKG-INFO")
# Never in an sdist: local environments, build output, secrets.
SDIST_NEVER = re.compile(r"(^|/)(\.venv[^/]*|\.meltano|output|dist|\.env)(/|$)")


def wheel_problems(wheel: Path, sdist_modules: set[str] | None = None) -> list[str]:
    """What is wrong with the wheel's contents; empty when nothing is."""
    problems: list[str] = []
    name, version = wheel.name.split("-")[:2]
    dist_info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        stray = [n for n in names if not n.startswith((f"{PACKAGE}/", f"{dist_info}/"))]
        if stray:
            problems.append(f"files outside {PACKAGE}/ and {dist_info}/: {stray}")
        if f"{dist_info}/licenses/LICENSE" not in names:
            problems.append(f"no {dist_info}/licenses/LICENSE")
        if f"{PACKAGE}/__init__.py" not in names:
            problems.append(f"no {PACKAGE}/__init__.py")
        meta = HeaderParser().parsestr(
            archive.read(f"{dist_info}/METADATA").decode("utf-8")
        )
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    if meta["Name"] != "tap-voicegain" or meta["Version"] != version:
        problems.append(f"METADATA names {meta['Name']} {meta['Version']}")
    if meta["License-Expression"] != "Apache-2.0":
        problems.append(f"License-Expression is {meta['License-Expression']}")
    if "tap-voicegain = tap_voicegain.tap:main" not in entry_points:
        problems.append("no console script tap-voicegain")
    if sdist_modules is not None:
        missing = sorted(sdist_modules - set(names))
        if missing:
            problems.append(f"modules of the sdist missing from the wheel: {missing}")
    return problems


def sdist_problems(sdist: Path, version: str) -> tuple[list[str], set[str]]:
    """What is wrong with the sdist, and the tap's modules it holds."""
    problems: list[str] = []
    root = sdist.name.removesuffix(".tar.gz")
    with tarfile.open(sdist) as archive:
        members = [m.name for m in archive.getmembers()]
        pkg_info = archive.extractfile(f"{root}/PKG-INFO")
        meta = HeaderParser().parsestr(pkg_info.read().decode() if pkg_info else "")
    inside = [PurePosixPath(m).relative_to(root).as_posix() for m in members]
    problems.extend(
        f"sdist lacks {needed}" for needed in SDIST_NEEDS if needed not in inside
    )
    problems.extend(
        f"sdist holds {path}" for path in inside if SDIST_NEVER.search(path)
    )
    if meta["Version"] != version:
        problems.append(f"sdist is version {meta['Version']}, the wheel {version}")
    modules = {p for p in inside if p.startswith(f"{PACKAGE}/") and p.endswith(".py")}
    return problems, modules


def main(argv: list[str]) -> int:
    """Check the one wheel and one sdist in the folder given."""
    folder = Path(argv[0] if argv else "dist")
    wheels = sorted(folder.glob("*.whl"))
    sdists = sorted(folder.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        sys.stderr.write(
            f"{folder}: want one wheel and one sdist, found {wheels + sdists}\n"
        )
        return 1
    version = wheels[0].name.split("-")[1]
    problems, modules = sdist_problems(sdists[0], version)
    problems += wheel_problems(wheels[0], modules)
    if problems:
        sys.stderr.write("\n".join(f"{folder}: {p}" for p in problems) + "\n")
        return 1
    sys.stdout.write(
        f"{wheels[0].name}: {PACKAGE}/ ({len(modules)} modules) and its licence only; "
        f"{sdists[0].name}: sources, version {version}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
