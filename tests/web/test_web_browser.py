# SPDX-License-Identifier: MIT
"""The console in a real browser: headless Chromium on `axlink web` over the
simulator (conftest.py). The tests run in file order on one page, as a
person would use it: the drives appear, a register edit round-trips, enable
and move change the state and the plotted position, a scope capture shows
its trace, stop stops, a drive that disappears leaves the table."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

import axlink
from conftest import FAST, HOT

WAIT = 10


def wait(browser, fn, what, timeout=WAIT):
    try:
        return WebDriverWait(browser, timeout, poll_frequency=0.05).until(lambda b: fn())
    except Exception:
        logs = browser.get_log("browser")
        pytest.fail(f"timed out waiting for {what}; browser log: {logs}")


def row_of(browser, host):
    """The drives table's row of @host, or None. The page rebuilds the rows
    on every update, so one CSS query finds it at once."""
    rows = browser.find_elements(By.CSS_SELECTOR,
                                 f'#drives tbody tr[data-uri^="eth://{host}:"]')
    return rows[0] if rows else None


def row_cells(browser, host):
    """The texts of @host's row (None without one), read in the page at once."""
    return browser.execute_script(
        "const tr = document.querySelector(`#drives tbody tr[data-uri^='eth://${arguments[0]}:']`);"
        "return tr ? [...tr.cells].map((c) => c.textContent) : null;", host)


def text(browser, id_):
    return browser.find_element(By.ID, id_).text


def chart_last(browser, name):
    return browser.execute_script("return window.axlinkChart.last(arguments[0])", name)


def test_browser__lists_the_simulated_drives(browser):
    wait(browser, lambda: text(browser, "conn") == "live", "the live connection")
    for host, serial in ((FAST, "8001"), ("127.0.24.2", "8002"), (HOT, "8005")):
        cells = wait(browser, lambda: row_cells(browser, host), f"drive {host} in the table")
        assert cells[1] == "axs-100" and cells[2] == serial and cells[5] == "exact", cells
    wait(browser, lambda: "1: switch on disabled" in row_cells(browser, FAST)[7]
         or "1: operation enabled" in row_cells(browser, FAST)[7], "axis states in the table")


def test_browser__register_edit_round_trips_and_errors_show_inline(browser):
    row_of(browser, FAST).click()
    wait(browser, lambda: browser.find_elements(
        By.CSS_SELECTOR, f'#drives tr.selected[data-uri^="eth://{FAST}:"]'), "the drive selected")
    search = browser.find_element(By.ID, "reg-search")
    search.clear()
    search.send_keys("PROF_POS_WINDOW_TIME")
    key = "PROF_POS_WINDOW_TIME@1"
    sel = f'#regs tr[data-key="{key}"]'
    wait(browser, lambda: len(browser.find_elements(By.CSS_SELECTOR, "#regs tbody tr")) == 1,
         "the search to narrow the table")
    value = lambda: browser.find_element(By.CSS_SELECTOR, sel + " td.value").text  # noqa: E731
    wait(browser, lambda: value() not in ("", "…"), "the register's value")
    row = browser.find_element(By.CSS_SELECTOR, sel)
    assert "0 … 10000" in row.text  # its range
    box = row.find_element(By.CSS_SELECTOR, "td.edit input")
    box.send_keys("123", Keys.ENTER)
    wait(browser, lambda: value() == "123", "the written value read back")
    # The drive holds it: read through the library, not the page.
    with axlink.open(f"eth://{FAST}", timeout=1.0, context=axlink.Context()) as d:
        assert d.read("PROF_POS_WINDOW_TIME", 1) == 123
    box.clear()
    box.send_keys("20000", Keys.ENTER)
    err = lambda: browser.find_element(By.CSS_SELECTOR, sel + " .err").text  # noqa: E731
    wait(browser, lambda: "10000" in err(), "the range error shown inline")
    assert value() == "123"
    # Read-only registers are greyed and have no editor.
    search.clear()
    search.send_keys("CL_POS_FBK_VALUE")
    ro = wait(browser, lambda: browser.find_elements(
        By.CSS_SELECTOR, '#regs tr[data-key="CL_POS_FBK_VALUE@1"]'), "a read-only register")
    assert "ro" in ro[0].get_attribute("class")
    assert not ro[0].find_elements(By.CSS_SELECTOR, "td.edit input")


def test_browser__enable_and_move_change_the_state_and_the_plotted_position(browser):
    b = browser
    b.find_element(By.ID, "plot-start").click()
    wait(b, lambda: chart_last(b, "CL_POS_FBK_VALUE") is not None, "plotted samples")
    start = chart_last(b, "CL_POS_FBK_VALUE")
    b.find_element(By.ID, "enable").click()
    wait(b, lambda: text(b, "axis-state") == "operation enabled", "operation enabled")
    Select(b.find_element(By.ID, "units")).select_by_value("deg")
    wait(b, lambda: "units: operation enabled" in text(b, "motion-msg"), "units set")
    target = 90 if start < 512 else 0
    for id_, v in (("position", str(target)), ("velocity", "180")):
        box = b.find_element(By.ID, id_)
        box.clear()
        box.send_keys(v)
    b.find_element(By.ID, "move").click()
    counts = 1024 if target == 90 else 0  # 4096 counts per revolution
    wait(b, lambda: abs(chart_last(b, "CL_POS_FBK_VALUE") - counts) <= 10,
         "the plotted position to reach the target")
    wait(b, lambda: text(b, "axis-pos").endswith(" deg")
         and abs(float(text(b, "axis-pos").split()[0]) - target) <= 1,
         "the axis position in degrees")
    wait(b, lambda: "1: operation enabled" in row_cells(b, FAST)[7], "the state in the table")
    search = b.find_element(By.ID, "reg-search")  # a few registers for the picture
    search.clear()
    search.send_keys("PROF_")
    wait(b, lambda: len(b.find_elements(By.CSS_SELECTOR, "#regs tbody tr")) > 3
         and b.execute_script("return [...document.querySelectorAll('#regs td.value')]"
                              ".every((td) => td.textContent !== '…')"),
         "the profiler registers")


def test_browser__pause_freezes_the_plot_and_exports_csv_and_png(browser, downloads):
    b = browser
    b.find_element(By.ID, "plot-pause").click()
    assert text(b, "plot-pause") == "Resume"
    shown = b.find_element(By.CSS_SELECTOR, '.legend b.last[data-name="CL_VEL_FBK_VALUE"]').text
    n = b.execute_script("return window.axlinkChart.t.length")
    box = b.find_element(By.ID, "position")
    box.clear()
    box.send_keys("45")
    b.find_element(By.ID, "move").click()
    wait(b, lambda: b.execute_script("return window.axlinkChart.t.length") > n + 20,
         "samples recorded while paused")
    time.sleep(0.3)
    assert b.find_element(
        By.CSS_SELECTOR, '.legend b.last[data-name="CL_VEL_FBK_VALUE"]').text == shown
    b.find_element(By.ID, "plot-pause").click()
    b.find_element(By.ID, "plot-csv").click()
    b.find_element(By.ID, "plot-png").click()
    csv, png = downloads / "axlink-plot.csv", downloads / "axlink-plot.png"
    wait(b, lambda: csv.exists() and png.exists(), "the CSV and PNG downloads")
    lines = csv.read_text().splitlines()
    assert lines[0] == "t_s,CL_POS_FBK_VALUE,CL_VEL_FBK_VALUE" and len(lines) > 50
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_browser__scope_capture_shows_a_trace_and_errors_inline(browser, downloads,
                                                                build_dir):
    b = browser
    picked = lambda: b.execute_script(  # noqa: E731
        "return [...document.getElementById('scope-regs').selectedOptions].map(o => o.value)")
    wait(b, lambda: picked() == ["CL_POS_FBK_VALUE@1", "CL_VEL_FBK_VALUE@1"],
         "the scope's default channels")
    options = b.execute_script("return [...document.getElementById('scope-regs').options]"
                               ".map(o => o.value)")
    assert "DRV_ID_SOFTWARE_VERSION@1" not in options  # only what the drive can sample
    wait(b, lambda: b.find_element(By.ID, "scope-period").get_attribute("value") == "50",
         "the drive's base period")
    # The library's refusal, inline.
    for id_, v in (("scope-period", "75"), ("scope-samples", "2000")):
        box = b.find_element(By.ID, id_)
        box.clear()
        box.send_keys(v)
    b.find_element(By.ID, "scope-capture").click()
    msg = b.find_element(By.ID, "scope-msg")
    wait(b, lambda: "not a multiple" in msg.text, "the period error shown inline")
    assert "error" in msg.get_attribute("class")
    # A capture during a move: 2000 samples 50 us apart of a rising position.
    box = b.find_element(By.ID, "scope-period")
    box.clear()
    box.send_keys("50")
    box = b.find_element(By.ID, "position")
    box.clear()
    box.send_keys("405")
    b.find_element(By.ID, "move").click()
    wait(b, lambda: (b.execute_script("return window.axlinkChart.v[1].at(-1)") or 0) > 0.1,
         "the axis moving")
    b.find_element(By.ID, "scope-capture").click()
    wait(b, lambda: b.execute_script("return window.axlinkScope.t.length") == 2000,
         "the captured trace")
    assert "error" not in msg.get_attribute("class"), msg.text
    t, pos = b.execute_script("const c = window.axlinkScope; return [c.t, c.v[0]]")
    assert t[0] == 0 and abs(t[1] - 50e-6) < 1e-9
    assert pos[-1] > pos[0], (pos[0], pos[-1])
    b.find_element(By.ID, "scope-csv").click()
    b.find_element(By.ID, "scope-png").click()
    wait(b, lambda: len(list(downloads.glob("axlink-scope-*.csv"))) == 1
         and len(list(downloads.glob("axlink-scope-*.png"))) == 1, "the scope's downloads")
    lines = next(downloads.glob("axlink-scope-*.csv")).read_text().splitlines()
    assert lines[0] == "t_s,CL_POS_FBK_VALUE,CL_VEL_FBK_VALUE" and len(lines) == 2001
    wait(b, lambda: b.execute_script("return window.axlinkChart.v[1].at(-1)") == 0,
         "the move's end")
    shot = build_dir / "web-console.png"
    b.execute_script("window.scrollTo(0, 0)")
    b.save_screenshot(str(shot))
    assert shot.stat().st_size > 20000


def test_browser__scope_cancel_ends_a_capture_waiting_for_its_trigger(browser, console):
    b = browser
    sid = b.execute_script("return state.drive")
    url = console.split("?")[0] + f"api/drives/{sid}/scope"
    busy = lambda: json.load(urllib.request.urlopen(url, timeout=5))["busy"]  # noqa: E731
    Select(b.find_element(By.ID, "scope-trig")).select_by_value("DRV_STATE_STATUS@1")
    for id_, v in (("scope-level", "65535"),  # the status word never rises to it
                   ("scope-samples", "500")):  # the buffer holds 1638 of 3 channels
        box = b.find_element(By.ID, id_)
        box.clear()
        box.send_keys(v)
    button = b.find_element(By.ID, "scope-capture")
    button.click()
    wait(b, lambda: text(b, "scope-status") == "waiting for the trigger…"
         or text(b, "scope-msg"), "the scope armed")
    assert not text(b, "scope-msg")
    assert button.text == "Cancel" and busy()
    t0 = time.monotonic()
    button.click()  # the page hangs up: the server cancels the capture
    wait(b, lambda: text(b, "scope-msg") == "capture cancelled", "the cancel shown")
    wait(b, lambda: not busy(), "the server to cancel the capture", timeout=20)
    print(f"capture cancelled {time.monotonic() - t0:.2f} s after the click")
    assert button.text == "Capture"


def test_browser__a_closed_tab_cancels_its_capture(browser, console):
    b = browser
    sid = b.execute_script("return state.drive")
    url = console.split("?")[0] + f"api/drives/{sid}/scope"
    info = lambda: json.load(urllib.request.urlopen(url, timeout=5))  # noqa: E731
    first = b.current_window_handle
    b.switch_to.new_window("tab")
    try:
        b.get(console)
        wait(b, lambda: b.execute_script("return state.drive") == sid
             and b.execute_script("return document.getElementById('scope-trig').length") > 1,
             "the second tab's scope")
        Select(b.find_element(By.ID, "scope-trig")).select_by_value("DRV_STATE_STATUS@1")
        for id_, v in (("scope-level", "65535"), ("scope-samples", "500")):
            box = b.find_element(By.ID, id_)
            box.clear()
            box.send_keys(v)
        b.find_element(By.ID, "scope-capture").click()
        wait(b, lambda: info()["stage"] == "armed", "the capture armed")
    finally:
        b.close()
        b.switch_to.window(first)
    t0 = time.monotonic()
    wait(b, lambda: not info()["busy"], "the closed tab's capture to end", timeout=20)
    print(f"closed tab's capture cancelled within {time.monotonic() - t0:.2f} s")
    Select(b.find_element(By.ID, "scope-trig")).select_by_value("")


def jog_requests(browser):
    """How many jog requests the page has sent (its resource timings)."""
    return browser.execute_script(
        "return performance.getEntriesByType('resource')"
        ".filter((e) => new URL(e.name).pathname.endsWith('/jog')).length")


def test_browser__jog_moves_while_held_and_stops_on_release(browser):
    """The server halts a jog that is not renewed within its 600 ms dead
    man; the page renews it every 250 ms while the button is held. On a
    loaded machine a renewal may come late and the axis halt for a moment
    (the dead man doing its job), so the test counts the renewals the page
    sent instead of timing them, and then wants the axis moving: a page
    that never renewed would have left it halted for good."""
    b = browser
    velocity = lambda: b.execute_script("return window.axlinkChart.v[1].at(-1)") or 0  # noqa: E731
    b.execute_script("performance.clearResourceTimings()")
    p0 = chart_last(b, "CL_POS_FBK_VALUE")
    button = b.find_element(By.ID, "jog-pos")
    ActionChains(b).click_and_hold(button).perform()
    try:
        wait(b, lambda: velocity() > 0.1, "the axis jogging forwards")
        # The first request and three renewals: held for longer than the dead man.
        wait(b, lambda: jog_requests(b) >= 4, "the page renewing the jog while held")
        wait(b, lambda: velocity() > 0.1, "the axis still jogging after the dead man's 600 ms")
    finally:
        ActionChains(b).release(button).perform()
    wait(b, lambda: b.execute_script("return window.axlinkChart.v[1].at(-1)") == 0,
         "the jog stopped on release")
    assert chart_last(b, "CL_POS_FBK_VALUE") > p0


def test_browser__a_closed_tab_stops_its_stream(browser, console):
    b = browser
    info = console.split("?")[0] + "api/info"
    streams = lambda: json.load(urllib.request.urlopen(info, timeout=5))["streams"]  # noqa: E731
    assert streams() == 1  # the first tab's plot
    first = b.current_window_handle
    b.switch_to.new_window("tab")
    try:
        b.get(console)
        wait(b, lambda: text(b, "conn") == "live" and row_cells(b, FAST), "the second tab")
        wait(b, lambda: b.find_elements(By.CSS_SELECTOR, "#drives tr.selected"),
             "a drive selected")
        b.find_element(By.ID, "plot-start").click()
        wait(b, lambda: streams() == 2, "the second tab's stream")
    finally:
        b.close()
        b.switch_to.window(first)
    wait(b, lambda: streams() == 1, "the closed tab's stream to stop")


def test_browser__stop_halts_a_move(browser):
    b = browser
    Select(b.find_element(By.ID, "units")).select_by_value("counts")
    for id_, v in (("position", "400000"), ("velocity", "3000")):
        box = b.find_element(By.ID, id_)
        box.clear()
        box.send_keys(v)
    b.find_element(By.ID, "move").click()
    wait(b, lambda: abs(b.execute_script("return window.axlinkChart.v[1].at(-1)") or 0) > 0.1,
         "the axis moving")
    b.find_element(By.ID, "stop").click()
    wait(b, lambda: "stop: operation enabled" in text(b, "motion-msg"), "the stop confirmed")
    wait(b, lambda: b.execute_script("return window.axlinkChart.v[1].at(-1)") == 0,
         "the plotted velocity back to 0")
    p1 = chart_last(b, "CL_POS_FBK_VALUE")
    time.sleep(0.3)
    assert chart_last(b, "CL_POS_FBK_VALUE") == p1 < 400000
    b.find_element(By.ID, "disable").click()
    wait(b, lambda: text(b, "axis-state") != "operation enabled", "the axis disabled")


def test_browser__a_drive_that_disappears_leaves_the_table(browser, sims):
    assert row_cells(browser, HOT) is not None
    t0 = time.monotonic()
    sims["hot"].stop()
    wait(browser, lambda: row_cells(browser, HOT) is None, "the drive to leave the table")
    print(f"drive left the table {time.monotonic() - t0:.2f} s after its simulator stopped")
    assert row_cells(browser, FAST) is not None
