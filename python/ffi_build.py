# SPDX-License-Identifier: MIT
"""Build the cffi extension ``axlink._ffi`` (out-of-line API mode).

The declarations the extension binds are generated here, at build time, from
the public headers of the libaxlink being built against: the umbrella header
include/axlink/axlink.h goes through the C preprocessor with AX_CDEF defined
(AX_API expands to nothing) and attributes dropped; only what comes from the
axlink headers is kept (line markers say which file each line is from), and
the integer macros those headers define become ``#define NAME ...`` lines
that the C compiler fills in. A header added to the umbrella is bound with
no change here. Nothing is a hand-kept copy.

The library is found, in this order:
  AXLINK_BUILD_DIR=<cmake build dir>  a CMake build tree of axlink (headers
                                      from its source tree, lib/ of the tree)
  pkg-config axlink                   an installed libaxlink (PKG_CONFIG_PATH
                                      to point at a prefix)
The extension gets an rpath to the library's folder, so it loads without
LD_LIBRARY_PATH.

AXLINK_BUILD_DIR may be relative: to $PWD, the directory the user ran pip
(or this script) from.

Used four ways:
  python/CMakeLists.txt, wheel        python3 ffi_build.py --include-dir INC
  (pip install ./python through         --emit-c FILE --bundled-info FILE
  scikit-build-core)                  (CMake compiles FILE and links libaxlink)
  setup.py (AXLINK_BUILD_DIR=B        cffi_modules = ffi_build.py:ffibuilder_from_env
  pip install ./python)
  python3 ffi_build.py --build-dir B --out DIR [--tmp T]
                                      (CMake build tree: package + extension into DIR)
  python3 ffi_build.py --print-cdef   show the generated declarations
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

MODULE = "axlink._ffi"
HERE = Path(__file__).resolve().parent
PACKAGE_DIR = HERE / "axlink"


class BuildConfigError(Exception):
    """The library or its headers cannot be found or used; the text says how to fix it."""


class Library:
    """Where the library and its headers are. (A plain class: cffi runs this
    file outside the module system, where dataclasses cannot look it up.)"""

    def __init__(self, include_dir: Path, library_dir: Path, found_through: str,
                 bin_dir: Path | None = None) -> None:
        self.include_dir = include_dir
        self.library_dir = library_dir
        self.found_through = found_through
        self.bin_dir = bin_dir


# ---------------------------------------------------------------- locating


def _read_cmake_cache(build_dir: Path) -> dict[str, str]:
    cache = build_dir / "CMakeCache.txt"
    if not cache.is_file():
        raise BuildConfigError(
            f"AXLINK_BUILD_DIR={build_dir}: no CMakeCache.txt there; it must name a configured "
            "CMake build tree of axlink (cmake -S . -B build && cmake --build build)")
    values = {}
    for line in cache.read_text(encoding="utf-8", errors="replace").splitlines():
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_.-]*):[A-Z]+=(.*)$", line)
        if m:
            values[m.group(1)] = m.group(2)
    return values


def resolve_build_dir(value: str) -> Path:
    """AXLINK_BUILD_DIR as an absolute path. A relative one is taken against
    the directory the user was in: $PWD, which the shell sets and pip leaves
    alone when it runs the build backend inside python/ (the backend's own
    working directory would make `AXLINK_BUILD_DIR=build/release` point into
    python/)."""
    path = Path(value)
    if not path.is_absolute():
        pwd = os.environ.get("PWD")
        base = Path(pwd) if pwd and os.path.isabs(pwd) and os.path.isdir(pwd) else Path.cwd()
        path = base / path
    return path.resolve()


def _from_build_tree(build_dir: Path) -> Library:
    build_dir = build_dir.resolve()
    cache = _read_cmake_cache(build_dir)
    source = cache.get("axlink_SOURCE_DIR")
    if not source:
        raise BuildConfigError(f"AXLINK_BUILD_DIR={build_dir}: not a build tree of axlink "
                               "(its CMakeCache.txt has no axlink_SOURCE_DIR)")
    include_dir = Path(source) / "include"
    library_dir = build_dir / cache.get("CMAKE_INSTALL_LIBDIR", "lib")
    if not (include_dir / "axlink" / "axlink.h").is_file():
        raise BuildConfigError(f"AXLINK_BUILD_DIR={build_dir}: no {include_dir}/axlink/axlink.h "
                               "(has the source tree moved?)")
    if not any(library_dir.glob("libaxlink.so*")):
        raise BuildConfigError(f"AXLINK_BUILD_DIR={build_dir}: no libaxlink.so in {library_dir}; "
                               f"build the library first: cmake --build {build_dir}")
    bin_dir = build_dir / cache.get("CMAKE_INSTALL_BINDIR", "bin")
    return Library(include_dir, library_dir, f"AXLINK_BUILD_DIR={build_dir}", bin_dir)


def _pkg_config(*args: str) -> str:
    tool = os.environ.get("PKG_CONFIG", "pkg-config")
    if not shutil.which(tool):
        raise BuildConfigError(
            f"'{tool}' not found, and AXLINK_BUILD_DIR is not set: install pkg-config "
            "(or pkgconf), or set AXLINK_BUILD_DIR=<cmake build dir of axlink>")
    proc = subprocess.run([tool, *args, "axlink"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildConfigError(
            "libaxlink not found: pkg-config says: " + (proc.stderr.strip() or "(nothing)") +
            "\nInstall it (cmake --install <build> --prefix P) and set "
            "PKG_CONFIG_PATH=P/lib/pkgconfig, or set AXLINK_BUILD_DIR=<cmake build dir of axlink>")
    return proc.stdout.strip()


def _from_pkg_config() -> Library:
    include_dir = Path(_pkg_config("--variable=includedir")).resolve()
    library_dir = Path(_pkg_config("--variable=libdir")).resolve()
    version = _pkg_config("--modversion")
    if not (include_dir / "axlink" / "axlink.h").is_file():
        raise BuildConfigError(f"pkg-config names {include_dir} as axlink's include folder, "
                               "but it has no axlink/axlink.h")
    bin_dir = Path(_pkg_config("--variable=exec_prefix")).resolve() / "bin"
    return Library(include_dir, library_dir, f"pkg-config (axlink {version})", bin_dir)


def locate_library() -> Library:
    """Find the library to build against (see the module docstring)."""
    build_dir = os.environ.get("AXLINK_BUILD_DIR")
    if build_dir:
        return _from_build_tree(resolve_build_dir(build_dir))
    return _from_pkg_config()


# ---------------------------------------------------------------- cdef


def _compiler() -> list[str]:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shlex.split(cc)


def _preprocess(source: str, include_dir: Path, extra: list[str]) -> str:
    cmd = [*_compiler(), "-E", "-DAX_CDEF", "-D__attribute__(x)=", "-I", str(include_dir),
           *extra, "-x", "c", "-"]
    proc = subprocess.run(cmd, input=source, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BuildConfigError(f"preprocessing the axlink headers failed ({shlex.join(cmd)}):\n"
                               + proc.stderr)
    return proc.stdout


_LINEMARKER = re.compile(r'^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"')
_DEFINE = re.compile(r"^#define\s+([A-Za-z_]\w*)(\(?)\s*(.*)$")
_STATIC_ASSERT = re.compile(r"_Static_assert\s*\([^;]*\)\s*;")

# Words an integer constant expression may contain besides numbers: casts.
_INT_WORDS = {"unsigned", "signed", "int", "long", "short", "char", "size_t",
              "int8_t", "int16_t", "int32_t", "int64_t",
              "uint8_t", "uint16_t", "uint32_t", "uint64_t"}
_TOKEN = re.compile(r"\s+|0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*|[A-Za-z_]\w*|<<|>>|[()+\-*/%|&~^]")


def _is_integer_expression(text: str) -> bool:
    pos, digits = 0, False
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            return False
        tok = m.group(0)
        if tok[0].isalpha() or tok[0] == "_":
            if tok not in _INT_WORDS:
                return False
        elif tok[0].isdigit():
            digits = True
        pos = m.end()
    return digits


def _axlink_header(path: str, header_dir: Path) -> bool:
    try:
        return Path(path).resolve().parent == header_dir
    except OSError:
        return False


def generate_cdef(include_dir: Path, extra_cflags: list[str] | None = None) -> tuple[str, list[str]]:
    """The declarations of include/axlink/axlink.h as cffi takes them.

    Returns (cdef text, names of the integer macros in it)."""
    extra = list(extra_cflags or [])
    header_dir = (include_dir / "axlink").resolve()
    # -dD keeps the #define lines in place, under the line marker of their file.
    out = _preprocess('#include "axlink/axlink.h"\n', include_dir, ["-dD", *extra])
    decls: list[str] = []
    candidates: list[str] = []
    keep = False
    for line in out.splitlines():
        m = _LINEMARKER.match(line)
        if m:
            keep = _axlink_header(m.group(2), header_dir)
            continue
        if not keep:
            continue
        d = _DEFINE.match(line)
        if d:
            name, paren, value = d.groups()
            # Function-like macros and empty ones (guards, AX_API) are not constants.
            if name.startswith("AX_") and not paren and value.strip():
                candidates.append(name)
            continue
        if line.startswith("#") or not line.strip():
            continue
        decls.append(line)
    text = _STATIC_ASSERT.sub("", "\n".join(decls))
    if "ax_version_hex" not in text:
        raise BuildConfigError(f"{include_dir}/axlink/axlink.h gave no declarations "
                               "(wrong include folder?)")

    # Which macros are integer constants: expand each one fully and look.
    probe = '#include "axlink/axlink.h"\n' + "".join(
        f"axpy_probe__{n} {n}\n" for n in candidates)
    macros = []
    for line in _preprocess(probe, include_dir, ["-P", *extra]).splitlines():
        m = re.match(r"^axpy_probe__(\w+)\s+(.*)$", line)
        if m and _is_integer_expression(m.group(2)):
            macros.append(m.group(1))
    text += "\n" + "".join(f"#define {n} ...\n" for n in macros)
    return text, macros


def evaluate_macro(include_dir: Path, name: str) -> int:
    """The integer value of macro @name in the headers (e.g. AX_VERSION_HEX)."""
    out = _preprocess(f'#include "axlink/axlink.h"\naxpy_value__ {name}\n', include_dir, ["-P"])
    for line in out.splitlines():
        if line.startswith("axpy_value__ "):
            expr = re.sub(r"(?<=[0-9a-fA-F])[uUlL]+\b", "", line.split(" ", 1)[1])
            return _safe_int_eval(expr)
    raise BuildConfigError(f"macro {name} not found in the axlink headers")


def _safe_int_eval(expr: str) -> int:
    ops = {ast.BitOr: lambda a, b: a | b, ast.BitAnd: lambda a, b: a & b,
           ast.LShift: lambda a, b: a << b, ast.RShift: lambda a, b: a >> b,
           ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b}

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.left), ev(node.right))
        raise BuildConfigError(f"not a simple integer expression: {expr!r}")

    return ev(ast.parse(expr.strip(), mode="eval"))


# Declarations of the extension itself, not of the library: the Python
# callbacks the library calls, and a C loop the benchmark compares with.
EXTENSION_CDEF = """
extern "Python" void axpy_log_cb(int level, const char *origin, const char *message,
                                 void *userdata);
extern "Python" int axpy_scan_cb(const ax_scan_result *result, void *userdata);
int axpy_bench_read_u32(ax_link *link, unsigned subnode, uint32_t address, long count);
"""

# Callbacks of APIs that only newer libraries have: bound when the headers declare them.
OPTIONAL_CDEF = {
    "ax_discover": """
extern "Python" int axpy_discover_cb(const ax_discover_result *result, void *userdata);
extern "Python" int axpy_discover_transport_cb(const ax_discover_transport *transport,
                                               void *userdata);
extern "Python" int axpy_monitor_cb(int event, const ax_discover_result *result, void *userdata);
""",
    "ax_axis_open": """
extern "Python" int axpy_axis_wait_cb(ax_axis *axis, uint16_t statusword, void *userdata);
""",
}


def extension_cdef(cdef: str) -> str:
    """The extension's own declarations for a library whose cdef is @cdef."""
    extra = EXTENSION_CDEF
    for func, decls in OPTIONAL_CDEF.items():
        if re.search(r"\b" + func + r"\s*\(", cdef):
            extra += decls
    return extra


EXTENSION_SOURCE = r"""
#include "axlink/axlink.h"

/* Baseline for bench/bench_python.py: @count reads of one register in C,
 * with the GIL released by cffi around the whole loop. */
static int axpy_bench_read_u32(ax_link *link, unsigned subnode, uint32_t address, long count)
{
	uint32_t v;

	for (long i = 0; i < count; i++) {
		int err = ax_link_read_u32(link, subnode, address, &v);

		if (err < 0)
			return err;
	}
	return 0;
}
"""


def make_builder(lib: Library):
    """The cffi FFI builder of axlink._ffi against @lib."""
    import cffi  # imported late: --help and errors above need no cffi

    cdef, _ = generate_cdef(lib.include_dir)
    ffi = cffi.FFI()
    ffi.cdef(cdef + extension_cdef(cdef))
    ffi.set_source(MODULE, EXTENSION_SOURCE,
                   include_dirs=[str(lib.include_dir)],
                   library_dirs=[str(lib.library_dir)],
                   runtime_library_dirs=[str(lib.library_dir)],
                   libraries=["axlink"])
    return ffi


def build_info(lib: Library) -> str:
    """Text of axlink/_build_info.py: what the extension was built against."""
    hexv = evaluate_macro(lib.include_dir, "AX_VERSION_HEX")
    return ("# Generated by ffi_build.py when the extension was built; do not edit.\n"
            f"VERSION_HEX = {hexv:#08x}\n"
            f"VERSION = {'%d.%d.%d' % (hexv >> 16, (hexv >> 8) & 0xFF, hexv & 0xFF)!r}\n"
            f"LIBRARY_DIR = {str(lib.library_dir)!r}\n"
            f"INCLUDE_DIR = {str(lib.include_dir)!r}\n"
            f"FOUND_THROUGH = {lib.found_through!r}\n"
            "#: The axlink and axlink-sim executables the console scripts run.\n"
            f"BIN_DIR = {str(lib.bin_dir) if lib.bin_dir else None!r}\n")


def bundled_build_info(include_dir: Path) -> str:
    """Text of axlink/_build_info.py for a package that carries its library
    (a wheel): the library, its plugins and devices.db lie in axlink/_lib and
    axlink/_share, found relative to the package wherever it is installed."""
    hexv = evaluate_macro(include_dir, "AX_VERSION_HEX")
    return ("# Generated by ffi_build.py when the wheel was built; do not edit.\n"
            "import os as _os\n"
            f"VERSION_HEX = {hexv:#08x}\n"
            f"VERSION = {'%d.%d.%d' % (hexv >> 16, (hexv >> 8) & 0xFF, hexv & 0xFF)!r}\n"
            "#: libaxlink and its plugin folder (axlink-<ABI major>) inside the package.\n"
            "LIBRARY_DIR = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), '_lib')\n"
            "#: The bundled axlink and axlink-sim executables.\n"
            "BIN_DIR = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), '_bin')\n"
            "INCLUDE_DIR = None\n"
            "FOUND_THROUGH = 'bundled in the package'\n"
            "BUNDLED = True\n")


def emit_c(include_dir: Path, out: Path) -> None:
    """Write the extension's C source to @out (a build system compiles it and
    links libaxlink; CMake does for the wheel, python/CMakeLists.txt)."""
    lib = Library(include_dir, include_dir, "headers only")
    builder = make_builder(lib)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    builder.emit_c_code(str(tmp))
    os.replace(tmp, out)


def library_version(lib: Library) -> str:
    hexv = evaluate_macro(lib.include_dir, "AX_VERSION_HEX")
    return "%d.%d.%d" % (hexv >> 16, (hexv >> 8) & 0xFF, hexv & 0xFF)


def ffibuilder_from_env():
    """For setup.py: cffi_modules = ["ffi_build.py:ffibuilder_from_env"]."""
    try:
        return make_builder(locate_library())
    except BuildConfigError as e:
        raise SystemExit(f"axlink: {e}") from None


# ---------------------------------------------------------------- CMake mode


def build_into(lib: Library, out: Path, tmp: Path) -> Path:
    """Put the package and its compiled extension into @out/axlink."""
    pkg = out / "axlink"
    pkg.mkdir(parents=True, exist_ok=True)
    # Stale modules from an earlier build must not linger.
    for old in pkg.glob("*.py"):
        old.unlink()
    for src in PACKAGE_DIR.iterdir():
        if src.suffix == ".py" or src.name == "py.typed":
            shutil.copy2(src, pkg / src.name)
    (pkg / "_build_info.py").write_text(build_info(lib), encoding="utf-8")
    tmp.mkdir(parents=True, exist_ok=True)
    built = Path(make_builder(lib).compile(tmpdir=str(tmp), verbose=False))
    target = pkg / built.name
    for old in pkg.glob("_ffi.*"):
        old.unlink()
    shutil.copy2(built, target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", help="CMake build tree of axlink (default: AXLINK_BUILD_DIR, "
                    "else pkg-config)")
    ap.add_argument("--out", help="folder that receives the axlink package with its extension")
    ap.add_argument("--tmp", help="folder for the generated C and objects (default OUT/build)")
    ap.add_argument("--print-cdef", action="store_true", help="print the generated declarations")
    ap.add_argument("--emit-c", metavar="FILE",
                    help="only write the extension's C source to FILE (needs --include-dir)")
    ap.add_argument("--bundled-info", metavar="FILE",
                    help="only write _build_info.py of a package that bundles its library to "
                    "FILE (needs --include-dir)")
    ap.add_argument("--include-dir", help="include folder holding axlink/axlink.h")
    args = ap.parse_args(argv)
    try:
        if args.emit_c or args.bundled_info:
            if not args.include_dir:
                ap.error("--emit-c and --bundled-info need --include-dir")
            inc = Path(args.include_dir).resolve()
            if args.emit_c:
                emit_c(inc, Path(args.emit_c))
            if args.bundled_info:
                Path(args.bundled_info).write_text(bundled_build_info(inc), encoding="utf-8")
            return 0
        if args.build_dir:
            os.environ["AXLINK_BUILD_DIR"] = args.build_dir
        lib = locate_library()
        if args.print_cdef:
            cdef = generate_cdef(lib.include_dir)[0]
            print(cdef + extension_cdef(cdef))
            return 0
        if not args.out:
            ap.error("--out is required to build")
        out = Path(args.out)
        target = build_into(lib, out, Path(args.tmp) if args.tmp else out / "build")
        print(f"axlink: built {target} against {lib.found_through}")
        return 0
    except BuildConfigError as e:
        print(f"axlink: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
