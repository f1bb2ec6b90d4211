"""The package's build: setuptools (metadata in pyproject.toml), plus the message catalogues compiled into it.

``*.mo`` files are not kept in git; ``build_py`` compiles each ``messages.po`` it copies into the build into
the ``messages.mo`` beside it, so a wheel (and whatever is installed from it) serves Polish out of the box.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithCatalogues(build_py):
    """``build_py``, then ``application/translations/*/LC_MESSAGES/messages.po`` -> ``.mo`` in the build."""

    def run(self) -> None:
        super().run()
        for po in Path(self.build_lib, "application", "translations").glob("*/LC_MESSAGES/messages.po"):
            with po.open("rb") as f:
                catalog = read_po(f)
            with po.with_suffix(".mo").open("wb") as f:
                write_mo(f, catalog, use_fuzzy=True)


setup(cmdclass={"build_py": BuildPyWithCatalogues})
