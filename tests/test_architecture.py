"""The shape of the code: apps in layers without import cycles (import-linter, run by `make test`
before pytest, see pyproject's contracts) and modules small enough to read in one sitting."""

import tomllib
from pathlib import Path

from django.conf import settings

LONGEST_MODULE = 600


def app_packages() -> list[Path]:
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as file:
        include = tomllib.load(file)["tool"]["setuptools"]["packages"]["find"]["include"]
    return [Path(settings.BASE_DIR) / pattern.rstrip("*") for pattern in include]


def test_no_module_of_app_code_is_longer_than_one_sitting():
    too_long = {
        str(path.relative_to(settings.BASE_DIR)): lines
        for package in app_packages()
        for path in package.rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines())) > LONGEST_MODULE
    }
    assert too_long == {}


def test_the_import_contracts_cover_every_app():
    with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as file:
        linter = tomllib.load(file)["tool"]["importlinter"]
    packages = {package.name for package in app_packages()}
    layers = next(c for c in linter["contracts"] if c["type"] == "layers")["layers"]
    acyclic = next(c for c in linter["contracts"] if c["type"] == "acyclic_siblings")
    assert set(linter["root_packages"]) == packages
    assert set(layers) == packages
    assert set(acyclic["ancestors"]) == packages
