"""envdash as a user installs it: the wheel built from this tree, in a fresh venv, serves pages.

Offline: the wheel is built without build isolation (setuptools comes from the dev extras)
and installed without dependencies; the fresh venv borrows the test venv's installed
dependencies through a .pth file, which adds directories to sys.path but runs none of
the .pth files in them (so not an editable install's finder that points back here).
"""

from __future__ import annotations

import html.parser
import json
import secrets
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import venv
import zipfile
from http.cookiejar import CookieJar
from pathlib import Path

from tests.serving import serve_environ, serving

REPO = Path(__file__).resolve().parents[1]
#: What the build reads: the metadata (pyproject.toml, its readme), setup.py's packages.
#: The build runs in a copy: setuptools writes build/ and *.egg-info beside its input.
BUILD_INPUTS = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "dashboard",
    "envcore",
    "templates",
    "static",
)
PAGES = ("/", "/environments/", "/jobs/", "/team/")
#: Where the installed envdash finds itself, a page and a stylesheet: in the venv, once.
WHERE = """
import json, django, dashboard, envcore
from django.contrib.staticfiles import finders
from django.template.loader import get_template
django.setup()
print(json.dumps({
    "dashboard": dashboard.__file__,
    "envcore": envcore.__file__,
    "template": get_template("dashboard/login.html").origin.name,
    "stylesheets": finders.find("css/envdash.css", find_all=True),
}))
"""


class _Assets(html.parser.HTMLParser):
    """The stylesheets and scripts a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "stylesheet" and found.get("href"):
            self.urls.append(str(found["href"]))
        if tag == "script" and found.get("src"):
            self.urls.append(str(found["src"]))


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(REPO / name, source / name, ignore=ignore)
        else:
            shutil.copy2(REPO / name, source / name)
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps"]
    subprocess.run(
        [*build, "--no-index", "--wheel-dir", str(dist), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("envdash-*.whl")
    return wheel


def _source_files(directory: str) -> set[str]:
    root = REPO / directory
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _install(wheel: Path, env_dir: Path) -> Path:
    """A venv holding the wheel alone; its dependencies come from the test venv."""
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    subprocess.run([*pip, "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "test-dependencies.pth").write_text("".join(f"{d}\n" for d in sorted(borrowed)))
    return python


def _get(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, str, bytes]:
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def test_the_installed_wheel_serves_pages_styles_and_htmx(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    shipped = set(zipfile.ZipFile(wheel).namelist())
    # Every page and every static file the pages use ships; the README's screenshots stay out.
    templates = {f"dashboard/templates/{name}" for name in _source_files("templates")}
    static = {
        f"dashboard/static/{name}"
        for name in _source_files("static")
        if not name.startswith("screenshots/")
    }
    assert templates <= shipped
    assert {name for name in shipped if name.startswith("dashboard/static/")} == static

    env_dir = tmp_path / "venv"
    python = _install(wheel, env_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data_dir = tmp_path / "data"
    env = serve_environ(
        data_dir, secrets.token_urlsafe(24), ENVDASH_SCAN_ROOTS=str(data_dir), DATABASE_URL=""
    )
    env.pop("PYTHONPATH", None)
    found = json.loads(
        subprocess.run(
            [str(python), "-c", WHERE],
            cwd=elsewhere,
            env={**env, "DJANGO_SETTINGS_MODULE": "dashboard.settings"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    package = env_dir / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    package = package / "site-packages" / "dashboard"
    assert found == {
        "dashboard": str(package / "__init__.py"),
        "envcore": str(package.parent / "envcore" / "__init__.py"),
        "template": str(package / "templates" / "dashboard" / "login.html"),
        "stylesheets": [str(package / "static" / "css" / "envdash.css")],
    }

    argv = [str(env_dir / "bin" / "envdash"), "serve", "--port", "0", "--no-worker", "--no-scan"]
    with serving(argv, cwd=elsewhere, env=env) as served:
        anonymous = urllib.request.build_opener()
        status, _, body = _get(anonymous, served.url("/login/"))
        assert status == 200
        assert b"<title>Log in" in body

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        status, _, body = _get(opener, served.login_url)  # follows the redirect to "/"
        assert status == 200
        assert b"<title>Overview" in body
        for path in PAGES[1:]:
            assert _get(opener, served.url(path))[0] == 200, path

        assets = _Assets()
        assets.feed(body.decode())
        assert "/static/css/envdash.css" in assets.urls
        htmx = [url for url in assets.urls if url.rsplit("/", 1)[-1].startswith("htmx")]
        assert htmx, assets.urls
        for url in assets.urls:
            status, content_type, content = _get(opener, served.url(url))
            assert status == 200, url
            ours = REPO / "static" / url.removeprefix("/static/")
            if ours.is_file():
                assert content == ours.read_bytes(), url
        status, content_type, content = _get(opener, served.url("/static/css/envdash.css"))
        assert content_type == "text/css"
        status, content_type, content = _get(opener, served.url(htmx[0]))
        assert content_type in {"text/javascript", "application/javascript"}
        assert b"htmx" in content[:2000]
        screenshot = served.url("/static/screenshots/overview.png")
        assert _get(opener, screenshot)[0] == 404

        # serve's watcher is the installed `envdash watch`: the Settings page hears from it.
        deadline = time.monotonic() + 60
        while b"Watching 0 paths with inotify" not in _get(opener, served.url("/settings/"))[2]:
            assert time.monotonic() < deadline, "the installed watcher never reported"
            time.sleep(0.2)
