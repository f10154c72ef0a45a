"""The replay's HTML lock timeline in a real browser: headless Chromium (Debian's `chromium`,
which .ci/run installs) opens the page written by `migrasafe replay --html`, runs its script and
renders it to a PNG. The page must load without a console message, mark itself ready, and draw
one bar per lock the replay's JSON lists, per relation and per view.
"""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package `chromium`)")

MIGRATIONS = {
    "V1__create.sql": "CREATE TABLE orders (id bigserial PRIMARY KEY, note text, qty integer NOT NULL DEFAULT 1);\n"
                      "CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL);\n",
    "V2__index.sql": "CREATE INDEX orders_note_idx ON orders (note);\n",
    "V3__comment.sql": "COMMENT ON TABLE events IS 'untouched by the others';\n",
    "V4__widen.sql": "BEGIN;\nALTER TABLE orders ALTER COLUMN qty TYPE bigint;\nALTER TABLE orders ADD COLUMN c text;\n"
                     "COMMIT;\n",
}
WINDOW = (1280, 1600)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=180)


class Page(HTMLParser):
    """The root's attributes, and the bars per (view, relation)."""

    def __init__(self):
        super().__init__()
        self.root: dict[str, str] = {}
        self.view = self.relation = None
        self.bars: Counter = Counter()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "html":
            self.root = attrs
        elif tag == "div" and "view" in classes:
            self.view = attrs["data-view"]
        elif tag == "section" and "relation" in classes:
            self.relation = attrs["data-relation"]
        elif tag == "rect" and "bar" in classes:
            assert attrs["data-view"] == self.view
            self.bars[(self.view, self.relation)] += 1


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("timeline")
    migrations = folder / "migrations"
    migrations.mkdir()
    for name, text in MIGRATIONS.items():
        (migrations / name).write_text(text)
    page = folder / "timeline.html"
    done = subprocess.run([sys.executable, "-m", "migrasafe", "replay", str(migrations), "--format", "json",
                           "--fail-on", "never", "--rows", "50000", "--sizes", "1000,5000", "--no-progress",
                           "--html", str(page)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), page, folder


def expected_bars(document: dict) -> Counter:
    expected = Counter()
    for entry in document["replay"]["timeline"]:
        for migration in entry["migrations"]:
            for statement in migration["statements"]:
                for lock in statement["locks"]:
                    expected[(str(entry["size"]), lock["relation"])] += 1
    for migration in document["migrations"]:
        for statement in migration["statements"]:
            for lock in (statement.get("observed") or {}).get("locks", []):
                expected[("production", lock["relation"])] += 1
    return expected


def test_the_page_loads_in_chromium_and_draws_every_lock(replayed, tmp_path):
    document, page, _ = replayed
    shown = chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    assert shown.returncode == 0, shown.stderr[-2000:]
    console = [line for line in shown.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    parsed = Page()
    parsed.feed(shown.stdout)
    assert parsed.root.get("data-ready") == "true", parsed.root
    assert "data-error" not in parsed.root
    expected = expected_bars(document)
    # The index, and V4's type change (its second statement takes no lock the transaction lacks); the comment.
    assert expected[("5000", "public.orders")] == expected[("production", "public.orders")] == 2
    assert expected[("5000", "public.events")] == 1
    assert parsed.bars == expected
    # The script's own count of the bars, per view and relation, agrees with the markup.
    counted = json.loads(parsed.root["data-bars"])
    assert counted == {f"{view} {relation}": n for (view, relation), n in expected.items()}


def test_the_page_renders_to_a_png(replayed, tmp_path):
    _, page, _ = replayed
    image = tmp_path / "timeline.png"
    shot = chromium(tmp_path / "profile", f"--screenshot={image}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                    page.as_uri())
    assert shot.returncode == 0 and image.is_file(), shot.stderr[-2000:]
    data = image.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == WINDOW
    assert len(data) > 20_000  # a drawn page, not a blank one (a blank PNG of this size is a few kB)


def test_the_page_fetches_nothing(replayed):
    _, page, _ = replayed
    text = page.read_text()
    for reference in ("http://", "https://", "src=", "<link"):
        assert reference not in text.replace('xmlns="http://www.w3.org/2000/svg"', ""), reference
