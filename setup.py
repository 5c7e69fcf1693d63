"""Only what pyproject.toml cannot say: where the wheel's templates and static files come from.

templates/ and static/ stay at the top of the source tree, where `manage.py` finds them
(settings' DIRS and STATICFILES_DIRS). The wheel carries them inside the package, as
`dashboard/templates` and `dashboard/static`, where an installed envdash finds them through
Django's app directories (APP_DIRS, AppDirectoriesFinder). pyproject's `packages.find`
cannot map a package to a directory outside its parent, hence this file; the globs that
choose which files ship are in pyproject.toml's package-data.
"""

from __future__ import annotations

from setuptools import find_namespace_packages, setup  # type: ignore[import-untyped]

setup(
    packages=[
        *find_namespace_packages(include=["dashboard", "dashboard.*", "envcore", "envcore.*"]),
        "dashboard.templates",
        "dashboard.static",
    ],
    package_dir={"dashboard.templates": "templates", "dashboard.static": "static"},
)
