# SPDX-License-Identifier: MIT
"""drive.tables and drive.errors() against the simulated drive (virtual:):
faults injected with SIM_FAULT_INJECT land in the error list newest first,
with the dictionary's texts, and stay there across a fault reset."""
from __future__ import annotations

import pytest

import axlink

I2T = 0x00002310   # "Continuous over-current (I2t)", Power stage
TEMP = 0x00004310  # "Motor over-temperature", Motor


def test_errors_list_injected_faults_with_texts() -> None:
    with axlink.open("virtual:?model=axs-100&serial=691") as d:
        assert d.errors() == []
        assert d.fault(1) is None
        d.write("SIM_FAULT_INJECT", I2T, subnode=1)
        assert d.fault(1) == axlink.ErrorEntry(I2T, "Continuous over-current (I2t)", "cyclic",
                                               "Power stage")
        d.write("DRV_STATE_CONTROL", 0x80, subnode=1)  # fault reset keeps the history
        d.write("SIM_FAULT_INJECT", TEMP, subnode=1)
        errs = d.errors()
        assert [e.code for e in errs] == [TEMP, I2T]
        assert errs[0].text == "Motor over-temperature"
        assert errs[0].module == "Motor"
        assert errs[1].text == "Continuous over-current (I2t)"
        assert errs[1].type == "cyclic"


def test_table_is_a_sequence() -> None:
    with axlink.open("virtual:?model=axs-100&serial=692") as d:
        assert list(d.tables) == ["DRV_DIAG_ERROR_LIST"]
        t = d.tables["DRV_DIAG_ERROR_LIST"]
        assert len(t) == 32
        d.write("SIM_FAULT_INJECT", I2T, subnode=1)
        d.write("SIM_FAULT_INJECT", TEMP, subnode=1)
        assert t[0] == TEMP
        assert t[1] == I2T
        assert t[-1] == 0
        assert t[0:3] == [TEMP, I2T, 0]
        assert list(t)[:2] == [TEMP, I2T]
        with pytest.raises(IndexError):
            t[32]
        # The dictionaries' only table is read-only: a write is refused.
        with pytest.raises(axlink.Error, match="DRV_DIAG_ERROR_LIST"):
            t[0] = 5
        assert t[0] == TEMP
        with pytest.raises(KeyError):
            d.tables["NO_SUCH_TABLE"]


def test_no_error_list_without_tables() -> None:
    with axlink.open("virtual:?model=axs-200&serial=693") as d:
        assert len(d.tables) == 0
        with pytest.raises(axlink.NotFoundError, match="DRV_DIAG_ERROR_LIST"):
            d.errors()
