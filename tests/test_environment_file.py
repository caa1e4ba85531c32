"""environment.yml (conda-forge) lists the same packages as pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.-]+)\s*(.*)$")


def requirements(lines) -> dict[str, str]:
    parsed = {}
    for line in lines:
        name, specifier = REQUIREMENT.match(line.strip()).groups()
        parsed[name.lower()] = specifier.replace(" ", "")
    return parsed


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        lines.extend(extra)
    return requirements(lines)


def conda_requirements() -> dict[str, str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    lines = [item for item in environment["dependencies"] if isinstance(item, str)]
    return requirements(lines)


def test_environment_uses_conda_forge():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]


def test_every_python_package_is_in_environment():
    conda = conda_requirements()
    for name, specifier in pyproject_requirements().items():
        assert name in conda, f"{name} is in pyproject.toml but not in environment.yml"
        assert conda[name] == specifier, f"{name}: pyproject.toml says {specifier!r}, environment.yml {conda[name]!r}"


def test_environment_has_no_extra_python_packages():
    allowed_system = {"python", "pip", "openssl"}
    extra = set(conda_requirements()) - set(pyproject_requirements()) - allowed_system
    assert not extra, f"environment.yml lists packages pyproject.toml lacks: {sorted(extra)}"


def test_environment_installs_the_kit():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [item["pip"] for item in environment["dependencies"] if isinstance(item, dict)]
    assert pip_sections == [["-e ."]]
