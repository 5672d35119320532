# SPDX-License-Identifier: MIT
"""Shell completion (tools/completion/axlink.bash), the command it asks
(axlink registers), the URIs 'axlink list' leaves for it, and the man page
and completion file that `cmake --install` puts in place."""
import os
import shlex
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "completion" / "axlink.bash"
AXS100 = ROOT / "devices" / "axs-100.xdf"


@pytest.fixture
def complete(cli_path, axlink_env):
    """complete(*words) -> the candidates bash offers for the last word, with
    the script sourced in a fresh non-interactive bash and `axlink` on PATH."""
    env = dict(axlink_env)
    env["PATH"] = f"{Path(cli_path).parent}{os.pathsep}{env.get('PATH', '')}"
    env["XDG_CACHE_HOME"] = os.path.join(env["HOME"], ".cache")

    def run(*words):
        words = ("axlink",) + words
        script = (f"source {shlex.quote(str(SCRIPT))}\n"
                  "complete -p axlink\n"
                  f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
                  f"COMP_CWORD={len(words) - 1}\n"
                  "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
                  "_axlink\n"
                  "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
        proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                              capture_output=True, text=True, env=env, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert lines[0] == "complete -F _axlink axlink", lines
        return [w.strip() for w in lines[1:] if w.strip()]

    run.env = env
    return run


def test_completion__commands(complete):
    assert complete("re") == ["read", "registers", "reset", "restore"]
    got = complete("")
    for cmd in ("list", "read", "write", "move", "db", "config", "help", "registers"):
        assert cmd in got
    assert complete("db", "") == ["import", "list", "show", "resolve"]
    assert complete("config", "d") == ["diff"]


def test_completion__options_per_command(complete):
    assert complete("move", "eth://x", "1", "--v") == ["--velocity", "--verbose"]
    read = complete("read", "--")
    assert "--subnode" in read and "--dict" in read and "--velocity" not in read
    assert complete("db", "import", "--st") == ["--strict"]


def test_completion__register_ids_of_a_drive(complete):
    assert complete("read", "virtual:", "DRV_STATE_") == ["DRV_STATE_CONTROL",
                                                          "DRV_STATE_STATUS"]
    # after an option with a value, and for each REGISTER... of monitor
    assert "CL_POS_FBK_VALUE" in complete("monitor", "--period-ms", "5", "virtual:",
                                          "CL_VEL_FBK_VALUE", "CL_POS_F")
    # commands added later follow from their usage line (scope REGISTER...)
    assert "CL_VEL_FBK_VALUE" in complete("scope", "virtual:", "CL_POS_FBK_VALUE", "CL_VEL_F")
    # the value of write is not a register
    assert complete("write", "virtual:", "PROF_MAX_VEL", "1") == []


def test_completion__register_ids_of_a_dict_file(complete):
    got = complete("write", "--dict", str(AXS100), "virtual:", "PROF_MAX_")
    assert got == ["PROF_MAX_ACC", "PROF_MAX_DEC", "PROF_MAX_VEL"]


def test_completion__uris_of_the_last_discovery(complete, axlink, sim_drives):
    before = complete("read", "e")
    assert before == ["eth://"]  # no discovery yet: the schemes
    r = axlink("list", *sim_drives, "--json",
               env={"XDG_CACHE_HOME": complete.env["XDG_CACHE_HOME"]})
    assert r.code == 0, r.err
    got = complete("read", "eth://127.0.3.")
    assert got == sorted(sim_drives)
    assert (Path(complete.env["XDG_CACHE_HOME"]) / "axlink" / "last-discovery").is_file()
    stable = complete("info", "axlink://")
    assert stable == [f"axlink://A71C/00010064/{n}" for n in (9001, 9002, 9003)] + ["axlink://"]


def test_registers__lists_ids_sorted_and_once(axlink):
    r = axlink("registers", "virtual:")
    assert r.code == 0, r.err
    ids = r.out.split()
    assert ids == sorted(set(ids)) and "CL_POS_FBK_VALUE" in ids and len(ids) > 50
    sub0 = axlink("registers", "--dict", AXS100, "--subnode", "0").out.split()
    assert "DRV_ID_SERIAL_NUMBER_COCO" in sub0 and "CL_POS_FBK_VALUE" not in sub0


def test_registers__json(axlink):
    r = axlink("registers", "virtual:", "--subnode", "1", "--json")
    regs = {o["id"]: o for o in r.json()}
    assert regs["CL_POS_FBK_VALUE"] == {"id": "CL_POS_FBK_VALUE", "subnode": 1,
                                        "address": 0x030, "type": "s32",
                                        "units": regs["CL_POS_FBK_VALUE"]["units"]}
    assert all(o["subnode"] == 1 for o in regs.values())


def test_registers__usage_and_failures(axlink, tmp_path):
    r = axlink("registers")
    assert r.code == 2 and "missing URI (or --dict FILE)" in r.err
    r = axlink("registers", "virtual:", "extra")
    assert r.code == 2 and "unexpected argument 'extra'" in r.err
    r = axlink("registers", "--dict", tmp_path / "none.xdf", "--json")
    assert r.code == 1 and r.no_result() and "none.xdf" in r.err


def test_install__puts_man_page_and_completion(cli_path, tmp_path):
    build = Path(cli_path).resolve().parent.parent
    assert (build / "CMakeCache.txt").is_file(), f"{build} is not the CMake build tree"
    proc = subprocess.run(["cmake", "--install", str(build), "--prefix", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    man = tmp_path / "share" / "man" / "man1" / "axlink.1"
    text = man.read_text()
    assert text.startswith('.\\" DO NOT MODIFY THIS FILE!  It was generated by help2man')
    for cmd in ("read", "db import", "config save", "registers", "move"):
        assert f'.SS "axlink {cmd}"' in text, cmd
    comp = tmp_path / "share" / "bash-completion" / "completions" / "axlink"
    assert comp.read_text() == SCRIPT.read_text()
    # The page renders: man(1) reads it without a warning.
    proc = subprocess.run(["man", "--warnings", "-l", str(man)], capture_output=True, text=True,
                          timeout=60, check=False, env=dict(os.environ, MANWIDTH="80",
                                                            MANPAGER="cat", PAGER="cat"))
    assert proc.returncode == 0 and "axlink - find servo drives" in proc.stdout
    assert proc.stderr == ""


def test_list__cache_is_best_effort(axlink, sim_drives, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    r = axlink("list", sim_drives[0], "--json", env={"XDG_CACHE_HOME": str(blocked)})
    assert r.code == 0, r.err
    assert [d["uri"] for d in r.json()] == [sim_drives[0]] and r.err == ""
    cache = tmp_path / "cache"
    r = axlink("list", *sim_drives, env={"XDG_CACHE_HOME": str(cache)})
    assert r.code == 0
    lines = (cache / "axlink" / "last-discovery").read_text().splitlines()
    assert lines[0::2] == sim_drives and all(u.startswith("axlink://") for u in lines[1::2])
    assert not [p.name for p in (cache / "axlink").iterdir() if p.name != "last-discovery"]
