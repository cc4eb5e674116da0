"""A link to any page, opened as the very first request of a fresh app server, shows the app's menu.

Streamlit decides once per server process whether an app uses the old `pages/` folder
discovery: a folder named `pages` beside the entry script switches it on until some run of the
entry script calls `st.navigation`. With such a folder, a link to /upload opened first ran the
page file alone, under a menu listing the folder's files. So each page here gets a server of
its own, and its URL is the first thing that server is asked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import harness
from helpers import browser_test

#: The app's menu, as app.py declares it.
MENU = ["Home", "Photos", "Live camera", "Video file", "Model metrics"]
#: Each URL path and the title its page shows.
PAGES = {
    "upload": "Photos",
    "live": "Live camera",
    "video": "Video file",
    "metrics": "Model metrics",
}

pytestmark = browser_test


@pytest.mark.parametrize("path", list(PAGES))
def test_a_deep_link_opened_first_shows_the_apps_menu(
    request: pytest.FixtureRequest, tmp_path: Path, path: str
) -> None:
    harness.run_isolated(request.node.nodeid, lambda workdir: open_first(workdir, path), tmp_path)


def open_first(workdir: Path, path: str) -> None:
    with harness.app_server(workdir) as server, harness.browser_page(None, workdir) as page:
        page.goto(f"{server.url}/{path}")
        page.get_by_role("heading", name=PAGES[path]).first.wait_for(timeout=90_000)
        assert harness.sidebar_menu(page) == MENU
        assert page.url.rstrip("/").endswith(f"/{path}")
        log = server.log_tail(20_000)
    assert "Traceback" not in log, log
