/* SPDX-License-Identifier: MIT */
/*
 * axlink web [SPEC...] [--port N] [--bind ADDR] [--allow-remote] ...: the
 * browser console. It lives in the Python package (axlink.web, the extra
 * axlink[web]): this command runs that interpreter on it with the
 * arguments as given, so "axlink web" and "python3 -m axlink.web" are the
 * same program. The interpreter is AXLINK_PYTHON, else the one the build
 * chose for the Python package (AXLINK_CLI_PYTHON) while it exists, else
 * python3 on PATH. Run from a build tree,
 * the package built there (<build>/python) comes first on PYTHONPATH, as
 * the tests put it; installed, the interpreter's own is used.
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
 * What the interpreter runs: clear messages when the package or its web
 * part is missing, then axlink.web's main() with our arguments.
 */
static const char bootstrap[] =
        "import sys\n"
        "try:\n"
        "    import axlink\n"
        "except ImportError as e:\n"
        "    sys.exit(f'axlink web: {sys.executable} cannot import the Python package axlink '\n"
        "             f'({e}). Install it (pip install \"axlink[web]\"), build it (CMake option '\n"
        "             f'AXLINK_BUILD_PYTHON), or set AXLINK_PYTHON to a Python that has it.')\n"
        "try:\n"
        "    from axlink.web.__main__ import main\n"
        "except ImportError as e:\n"
        "    sys.exit(f'axlink web: the axlink package of {sys.executable} '\n"
        "             f'({axlink.__file__}) has no browser console ({e}).')\n"
        "sys.exit(main(sys.argv[1:]))\n";

static int cmd_web(struct cli *cli);

static const struct option web_options[] = {
        CLI_COMMON_OPTIONS,
        {NULL, 0, NULL, 0},
};

static const struct command web_commands[] = {
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
                .opts = web_options,
                .run = cmd_web,
        },
};

const struct cli_group cli_web_group = {
        web_commands,
        sizeof(web_commands) / sizeof(web_commands[0]),
};

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
	(void)snprintf(path, sizeof(path), "%s/../python/axlink/web/__main__.py", exe);
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

int cli_web_exec(const struct cli *cli, int argc, char **argv)
{
	const char *python = getenv("AXLINK_PYTHON");
	char pkg[PATH_MAX + 16], timeout[32];
	char **args;
	size_t n = 0;

	/* The build's interpreter may be gone (a wheel built in a throw-away environment). */
	if (!python || !*python)
		python = access(AXLINK_CLI_PYTHON, X_OK) == 0 || !strchr(AXLINK_CLI_PYTHON, '/')
		                 ? AXLINK_CLI_PYTHON
		                 : "python3";
	if (cli->json)
		return usage_error(cli->cmd, "web has no --json output");
	build_tree_python(pkg, sizeof(pkg));
	if (pkg[0] && prepend_env("PYTHONPATH", pkg) != 0)
		return fail_oom();
	for (size_t i = 0; i < cli->n_plugin_dirs; i++)
		if (prepend_env("AXLINK_PLUGIN_PATH", cli->plugin_dirs[i]) != 0)
			return fail_oom();
	/* python -c BOOTSTRAP [--timeout-ms N] ARGS... NULL */
	args = calloc((size_t)argc + 6, sizeof(*args));
	if (!args)
		return fail_oom();
	args[n++] = (char *)python;
	args[n++] = "-c";
	args[n++] = (char *)bootstrap;
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
	                "web: cannot run the Python interpreter '%s': %s (set AXLINK_PYTHON to "
	                "one that has the axlink package with its web extra)",
	                python, strerror(errno));
}

/* Reached through the command table only when main() did not run cli_web_exec(). */
static int cmd_web(struct cli *cli)
{
	return cli_web_exec(cli, (int)cli->n_pos, cli->pos);
}
