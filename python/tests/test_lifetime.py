# SPDX-License-Identifier: MIT
"""Children keep their parents alive; any destruction order is safe.

Each test drops the parent first, collects garbage, then uses and closes the
child: a use-after-free would crash the interpreter (or show under ASan,
where ctest runs this suite too).
"""
import gc
import subprocess
import sys
import textwrap
import weakref

import axlink
from conftest import FAST


def test_lifetime__drive_outlives_its_context(uri):
    ctx = axlink.Context()
    d = axlink.open(uri, context=ctx)
    del ctx
    gc.collect()
    assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
    assert d.context.plugins()  # the drive kept the context object too
    d.close()


def test_lifetime__drive_outlives_its_closed_context(uri):
    ctx = axlink.Context()
    d = axlink.open(uri, context=ctx)
    ctx.close()
    gc.collect()
    assert d.read("DRV_ID_SERIAL_NUMBER_COCO") == 6001
    d.close()


def test_lifetime__dictionary_and_register_outlive_the_drive(uri):
    d = axlink.open(uri, context=axlink.Context())
    dictionary = d.dictionary
    reg = dictionary["DRV_OP_CMD"]
    del d
    gc.collect()
    assert reg.enums[20] == "Profile position"
    assert reg.label and reg.dictionary is dictionary
    assert dictionary.search("serial number")
    del dictionary
    gc.collect()
    assert reg.dictionary.find("DRV_OP_CMD") == reg  # the register held its dictionary


def test_lifetime__closed_drive_leaves_its_dictionary_usable(uri):
    d = axlink.open(uri)
    dictionary = d.dictionary
    d.close()
    gc.collect()
    assert len(dictionary.registers) > 50


def test_lifetime__axis_keeps_its_drive(sims):
    d = axlink.open(f"eth://{FAST[1]}", context=axlink.Context())
    axis = d.axes[1]
    del d
    gc.collect()
    axis.write("PROF_MAX_VEL", 4.5)
    assert axis.read("PROF_MAX_VEL") == 4.5
    axis.drive.close()


def test_lifetime__dictionary_outlives_its_database(tmp_db, devices_dir):
    db = axlink.db.Database(tmp_db, create=True)
    db.import_file(devices_dir / "axs-100.xdf")
    model = db.list()[0]
    dictionary = db.load(model.id)
    del db
    gc.collect()
    assert dictionary.name == "axs-100"
    assert dictionary["DRV_STATE_STATUS"].bitfields


def test_lifetime__resolved_dictionary_outlives_its_database(tmp_db, devices_dir):
    db = axlink.db.Database(tmp_db, create=True)
    db.import_file(devices_dir / "axs-100.xdf")
    r = db.resolve(0xA71C, 0x00010064, 0x00010002)
    db.close()
    del db
    gc.collect()
    assert r.dictionary["CL_POS_FBK_VALUE"].dtype == "s32"


def test_lifetime__cycles_are_collected_in_any_order(uri):
    # A cycle through plain containers: the collector frees the context,
    # drive, dictionary and register in an order of its choosing.
    refs = []
    for _ in range(5):
        ctx = axlink.Context()
        d = axlink.open(uri, context=ctx)
        dictionary = d.dictionary
        reg = dictionary["DRV_ID_SERIAL_NUMBER_COCO"]
        bag = [ctx, d, dictionary, reg]
        bag.append(bag)
        refs.extend(weakref.ref(o) for o in (ctx, d, dictionary))
        del ctx, d, dictionary, reg, bag
    gc.collect()
    assert all(r() is None for r in refs), "the cycles must be collected"


def test_lifetime__interpreter_exit_with_everything_open(sims, build_dir):
    # Module teardown at exit frees objects in no particular order; nothing
    # is closed explicitly here. The process must exit 0 without a crash.
    script = textwrap.dedent(f"""
        import axlink, threading
        ctx = axlink.Context()
        d = axlink.open("eth://{FAST[0]}", context=ctx)
        d2 = axlink.open("virtual:?model=axs-200")
        reg = d.dictionary["DRV_OP_CMD"]
        axis = d2.axes[2]
        db = axlink.db.Database(r"{build_dir}/share/axlink/devices.db", readonly=True)
        dictionary = db.load(db.list()[0].id)
        print(d.read(reg), axis.read("PROF_MAX_VEL"), len(dictionary))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.split()) == 3, proc.stdout
