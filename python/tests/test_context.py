# SPDX-License-Identifier: MIT
"""Contexts, the plugin report, and the library's log going to `logging`."""
import logging
import os
import threading

import pytest

import axlink
from conftest import FAST


def test_context__plugins_report_the_built_transports():
    rows = axlink.plugins()
    by_scheme = {r.scheme: r for r in rows if r.loaded}
    assert {"eth", "virtual"} <= set(by_scheme)
    eth = by_scheme["eth"]
    assert eth.path.endswith("axlink-transport-eth.so") and os.path.isfile(eth.path)
    assert eth.abi[0] == 1 and eth.status == "loaded" and eth.message == ""
    assert eth.name and eth.version


def test_context__only_the_listed_plugin_folders(tmp_path):
    ctx = axlink.Context(plugin_paths=[tmp_path], env_paths=False, default_paths=False)
    assert ctx.plugins() == []
    with pytest.raises(axlink.PluginError, match="schemes served: none"):
        axlink.open("virtual:", context=ctx)
    eth = next(r.path for r in axlink.plugins() if r.scheme == "eth")
    info = ctx.load_plugin(eth)
    assert info.loaded and ctx.schemes() == ["eth"]
    with pytest.raises(axlink.PluginError, match="shadowed|already"):
        ctx.load_plugin(eth)  # a second plugin for the same scheme loses


def test_context__plugin_folder_is_loaded_from_the_options():
    eth_dir = os.path.dirname(next(r.path for r in axlink.plugins() if r.scheme == "eth"))
    ctx = axlink.Context(plugin_paths=[eth_dir], env_paths=False, default_paths=False)
    assert {"eth", "virtual"} <= set(ctx.schemes())
    assert ctx.add_plugin_dir(eth_dir) == 0  # already there: shadowed, none added


def test_context__default_timeout_reaches_links(sims):
    ctx = axlink.Context(timeout=0.15)
    with axlink.open(f"eth://{FAST[0]}", context=ctx) as d:
        assert d.timeout == 0.15


def test_context__default_context_is_shared_and_recreated_after_close():
    a = axlink.default_context()
    assert axlink.default_context() is a
    a.close()
    b = axlink.default_context()
    assert b is not a and not b.closed


def test_log__library_lines_reach_the_axlink_logger(caplog, sims):
    ctx = axlink.Context(log_level="debug")
    assert ctx.log_level == "debug"
    with caplog.at_level(logging.DEBUG, logger="axlink"):
        with axlink.open(f"eth://{FAST[0]}", context=ctx) as d:
            d.read("DRV_ID_SERIAL_NUMBER_COCO")
    ours = [r for r in caplog.records if r.name == "axlink"]
    assert ours, "no record from the library"
    assert any(r.levelno == logging.DEBUG for r in ours)
    assert all(hasattr(r, "axlink_origin") for r in ours)
    assert any(r.axlink_origin == "eth" for r in ours)


def test_log__level_gates_in_c_and_follows_the_logger_by_default(caplog, sims):
    quiet = axlink.Context(log_level="warn")
    with caplog.at_level(logging.DEBUG, logger="axlink"):
        with axlink.open(f"eth://{FAST[0]}", context=quiet) as d:
            d.read("DRV_ID_SERIAL_NUMBER_COCO")
    assert not [r for r in caplog.records if r.name == "axlink" and r.levelno < logging.WARNING]
    logger = logging.getLogger("axlink")
    old = logger.level
    try:
        logger.setLevel(axlink.TRACE)
        assert axlink.Context().log_level == "trace"
        logger.setLevel(logging.ERROR)
        assert axlink.Context().log_level == "error"
    finally:
        logger.setLevel(old)
    quiet.log_level = logging.INFO
    assert quiet.log_level == "info"
    with pytest.raises(ValueError, match="unknown log level"):
        quiet.log_level = "loud"


def test_log__warning_from_the_library(caplog, sims, devices_dir):
    # Opening a drive with another model's dictionary warns (identity mismatch).
    ctx = axlink.Context(log_level="warn")
    with caplog.at_level(logging.WARNING, logger="axlink"):
        with axlink.open(f"eth://{FAST[2]}", dictionary=devices_dir / "axs-200.xdf",
                         context=ctx) as d:
            assert d.info.match == "file"
    warnings = [r for r in caplog.records if r.name == "axlink" and r.levelno == logging.WARNING]
    assert any("identity" in r.getMessage() for r in warnings), caplog.text


def test_log__calls_from_c_worker_threads(caplog, sims):
    # Discovery scans in worker threads of the library; their log lines
    # arrive on those threads, not on the caller's.
    ctx = axlink.Context(log_level="debug")
    with caplog.at_level(logging.DEBUG, logger="axlink"):
        axlink.discover(f"eth://{FAST[0]}", timeout=0.5, context=ctx)
    threads = {r.thread for r in caplog.records if r.name == "axlink"}
    assert threading.get_ident() in threads
    assert len(threads) >= 2, "expected records from a library worker thread"


def test_log__exception_in_the_handler_is_reported_not_swallowed(monkeypatch, caplog, sims):
    reported = []
    monkeypatch.setattr("sys.unraisablehook", reported.append)

    class Failing(logging.Filter):
        def filter(self, record):
            raise RuntimeError("filter failed")

    logger = logging.getLogger("axlink")
    f = Failing()
    logger.addFilter(f)
    try:
        ctx = axlink.Context(log_level="debug")
        with caplog.at_level(logging.DEBUG, logger="axlink"):
            with axlink.open(f"eth://{FAST[0]}", context=ctx) as d:
                # The operation itself goes on: the failure is the log handler's.
                assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
    finally:
        logger.removeFilter(f)
    assert reported, "the exception must reach sys.unraisablehook"
    assert isinstance(reported[0].exc_value, RuntimeError)
    assert "log callback" in reported[0].err_msg
