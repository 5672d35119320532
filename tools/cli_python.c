/* SPDX-License-Identifier: MIT */
/*
 * The commands that live in the Python package:
 *   axlink web [SPEC...] [--port N] [--bind ADDR] ...   the browser console
 *                                                        (axlink.web, extra axlink[web])
 *   axlink opcua [SPEC...] [--endpoint URL] ...          the OPC UA gateway
 *                                                        (axlink.opcua, extra axlink[opcua])
 * Each runs the interpreter on its module with the arguments as given, so
 * "axlink web" and "python3 -m axlink.web" are the same program. The
 * interpreter is AXLINK_PYTHON, else the one the build chose for the Python
 * package (AXLINK_CLI_PYTHON) while it exists, else python3 on PATH. Run
 * from a build tree, the package built there (<build>/python) comes first
 * on PYTHONPATH, as the tests put it; installed, the interpreter's own is
 * used.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "axlink/axlink.h"
#include "cli.h"

#ifndef AXLINK_CLI_PYTHON
#define AXLINK_CLI_PYTHON "python3"
#endif

/*
 * What the interpreter runs, given NAME EXTRA MODULE before the command's
 * arguments: clear messages when the package or the command's part of it
 * is missing, then the module's main() with the arguments.
 */
static const char bootstrap[] =
        "import importlib, sys\n"
        "name, extra, module = sys.argv[1:4]\n"
        "del sys.argv[1:4]\n"
        "try:\n"
        "    import axlink\n"
        "except ImportError as e:\n"
        "    sys.exit(f'axlink {name}: {sys.executable} cannot import the Python package axlink '\n"
        "             f'({e}). Install it (pip install \"axlink[{extra}]\"), build it (CMake '\n"
        "             f'option AXLINK_BUILD_PYTHON), or set AXLINK_PYTHON to a Python that has '\n"
        "             f'it.')\n"
        "try:\n"
        "    main = importlib.import_module(module).main\n"
        "except ImportError as e:\n"
        "    sys.exit(f'axlink {name}: the axlink package of {sys.executable} '\n"
        "             f'({axlink.__file__}) cannot run {name}: {e}')\n"
        "sys.exit(main(sys.argv[1:]))\n";

/* A command of the Python package: its name, extra and module with main(). */
struct python_command {
	const char *name;
	const char *extra;
	const char *module;
};

static const struct python_command python_commands[] = {
        {"web", "web", "axlink.web.__main__"},
        {"opcua", "opcua", "axlink.opcua"},
};

static int cmd_python(struct cli *cli);

static const struct option python_options[] = {
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
};

static const struct command python_command_table[] = {
        {
                .name = "web",
                .synopsis = "[SPEC...] [--port N] [--bind ADDR] [--allow-remote]",
                .summary = "the browser console: drives, registers, motion, live plots",
                .help = "Serve the browser console on http://127.0.0.1:8765/ (--port,\n"
                        "--bind): the drives SPEC finds (eth://127.0.0.0/29; none: every\n"
                        "transport's default targets), live as they come and go; their\n"
                        "registers, motion and live plots. Runs the Python package's\n"
                        "console (python3 -m axlink.web, the extra axlink[web]); the\n"
                        "interpreter is AXLINK_PYTHON, else " AXLINK_CLI_PYTHON ".\n"
                        "A bind beyond loopback needs --allow-remote and a token then\n"
                        "guards every request. 'axlink web --help' lists every option.\n",
                .arg_names = {NULL},
                .variadic = 1,
                .opts = python_options,
                .run = cmd_python,
        },
        {
                .name = "opcua",
                .synopsis = "[SPEC...] [--endpoint opc.tcp://HOST:PORT] [--users FILE]",
                .summary = "serve the drives to OPC UA clients (SCADA, PLCs, MES)",
                .help = "Serve the drives SPEC finds (none: every transport's default\n"
                        "targets), live as they come and go, to OPC UA clients on\n"
                        "opc.tcp://127.0.0.1:4840 (--endpoint): an object per drive, a\n"
                        "folder of typed registers per axis, Enable/Disable/FaultReset/\n"
                        "Stop/MoveTo methods. Anonymous sessions read; writes and methods\n"
                        "need a user (--users FILE) or a trusted certificate. Runs the\n"
                        "Python package's gateway (python3 -m axlink.opcua, the extra\n"
                        "axlink[opcua]); the interpreter is AXLINK_PYTHON, else\n" AXLINK_CLI_PYTHON
                        ".\n'axlink opcua --help' lists every option.\n",
                .arg_names = {NULL},
                .variadic = 1,
                .opts = python_options,
                .run = cmd_python,
        },
};

const struct cli_group cli_python_group = {
        python_command_table,
        sizeof(python_command_table) / sizeof(python_command_table[0]),
};

int cli_python_command(const char *name)
{
	for (size_t i = 0; i < sizeof(python_commands) / sizeof(python_commands[0]); i++)
		if (strcmp(python_commands[i].name, name) == 0)
			return 1;
	return 0;
}

/* <dir of this executable>/../python when it holds the built package, else "". */
static void build_tree_python(char *out, size_t cap)
{
	char exe[PATH_MAX], path[PATH_MAX + 64];
	struct stat st;
	ssize_t n;
	char *slash;

	out[0] = '\0';
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	(void)snprintf(path, sizeof(path), "%s/../python/axlink/__init__.py", exe);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	(void)snprintf(out, cap, "%s/../python", exe);
}

/* Prepend @dir to the colon list in environment variable @name. */
static int prepend_env(const char *name, const char *dir)
{
	const char *old = getenv(name);
	size_t len = strlen(dir) + (old && *old ? strlen(old) + 1 : 0) + 1;
	char *value = malloc(len);
	int rc;

	if (!value)
		return -1;
	if (old && *old)
		(void)snprintf(value, len, "%s:%s", dir, old);
	else
		(void)snprintf(value, len, "%s", dir);
	rc = setenv(name, value, 1);
	free(value);
	return rc;
}

int cli_python_exec(const struct cli *cli, const char *name, int argc, char **argv)
{
	const char *python = getenv("AXLINK_PYTHON");
	const struct python_command *pc = NULL;
	char pkg[PATH_MAX + 16], timeout[32];
	char **args;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(python_commands) / sizeof(python_commands[0]); i++)
		if (strcmp(python_commands[i].name, name) == 0)
			pc = &python_commands[i];
	if (!pc)
		return usage_error(cli->cmd, "%s is no command of the Python package", name);
	/* The build's interpreter may be gone (a wheel built in a throw-away environment). */
	if (!python || !*python)
		python = access(AXLINK_CLI_PYTHON, X_OK) == 0 || !strchr(AXLINK_CLI_PYTHON, '/')
		                 ? AXLINK_CLI_PYTHON
		                 : "python3";
	if (cli->json)
		return usage_error(cli->cmd, "%s has no --json output", name);
	build_tree_python(pkg, sizeof(pkg));
	if (pkg[0] && prepend_env("PYTHONPATH", pkg) != 0)
		return fail_oom();
	for (size_t i = 0; i < cli->n_plugin_dirs; i++)
		if (prepend_env("AXLINK_PLUGIN_PATH", cli->plugin_dirs[i]) != 0)
			return fail_oom();
#ifdef AXLINK_CLI_ASAN_RUNTIME
	/* A sanitizer build: the interpreter will load the instrumented library. */
	if (prepend_env("LD_PRELOAD", AXLINK_CLI_ASAN_RUNTIME) != 0 ||
	    setenv("ASAN_OPTIONS", "detect_leaks=0", 1) != 0)
		return fail_oom();
#endif
	/* python -c BOOTSTRAP NAME EXTRA MODULE [--timeout-ms N] ARGS... NULL */
	args = calloc((size_t)argc + 9, sizeof(*args));
	if (!args)
		return fail_oom();
	args[n++] = (char *)python;
	args[n++] = "-c";
	args[n++] = (char *)bootstrap;
	args[n++] = (char *)pc->name;
	args[n++] = (char *)pc->extra;
	args[n++] = (char *)pc->module;
	if (cli->timeout_ms) {
		(void)snprintf(timeout, sizeof(timeout), "--timeout-ms=%d", cli->timeout_ms);
		args[n++] = timeout;
	}
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	(void)fflush(stdout);
	if (strchr(python, '/'))
		execv(python, args);
	else
		execvp(python, args);
	free(args);
	return cli_fail(AX_ENOTFOUND, AX_ERRCLASS_INTERNAL,
	                "%s: cannot run the Python interpreter '%s': %s (set AXLINK_PYTHON to "
	                "one that has the axlink package with its %s extra)",
	                name, python, strerror(errno), pc->extra);
}

/* Reached through the command table only when main() did not run cli_python_exec(). */
static int cmd_python(struct cli *cli)
{
	return cli_python_exec(cli, cli->cmd->name, (int)cli->n_pos, cli->pos);
}
