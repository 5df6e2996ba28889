/*
 * test_hardening_cli.c - help and wrong arguments touch nothing: the real
 * binary is run in an empty folder with every command's help and with
 * arguments it does not take, and the folder must still be empty
 * afterwards (no database, no key file, no data folder), with exit code 0
 * for help and 2 for a mistake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* Run the binary with args (NULL-terminated) in dir; its exit code, stdout in out. */
static int run_in(const char *dir, const char *const *args, char *out, size_t outn)
{
	const char *bin = getenv("DGOV_BIN");
	char abs[4096], cwd[4000];
	if (!bin || !bin[0]) {
		if (!getcwd(cwd, sizeof(cwd)))
			fail_msg("getcwd");
		snprintf(abs, sizeof(abs), "%s/build/dgov", cwd);
		bin = abs;
	}
	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[32] = {bin};
		size_t n = 1;
		for (; args[n - 1] && n < 31; n++)
			argv[n] = args[n - 1];
		argv[n] = NULL;
		dup2(pipefd[1], 1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		close(pipefd[0]);
		if (chdir(dir) != 0)
			_exit(99);
		/* the configuration must come from the arguments alone */
		unsetenv("DGOV_DB");
		unsetenv("DGOV_KEY_FILE");
		unsetenv("DGOV_KEY");
		unsetenv("DGOV_DATA_DIR");
		execv(bin, (char *const *)argv);
		_exit(98);
	}
	close(pipefd[1]);
	size_t got = 0;
	ssize_t k;
	while ((k = read(pipefd[0], out + got, outn - 1 - got)) > 0 && got + 1 < outn)
		got += (size_t)k;
	out[got] = '\0';
	close(pipefd[0]);
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The names in dir other than . and .. (as one string), "" when it is empty. */
static void listing(const char *dir, char *out, size_t n)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t len = 0;
	out[0] = '\0';
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int k = snprintf(out + len, n - len, "%s ", e->d_name);
		if (k > 0 && (size_t)k < n - len)
			len += (size_t)k;
	}
	closedir(d);
}

struct call {
	const char *args[8];
	int code;               /* the exit code expected; -1 any */
	const char *stdout_has; /* a word the help must say, or NULL */
};

static void help_and_mistakes_touch_nothing(void **state)
{
	(void)state;
	static const struct call calls[] = {
		{{"user", "--help"}, 0, "dgov user add"},
		{{"user", "-h"}, 0, "dgov user add"},
		{{"user", "help"}, 0, "dgov user add"},
		{{"user"}, 2, NULL},
		{{"user", "frobnicate"}, 2, NULL},
		{{"user", "add", "--colour", "blue"}, 2, NULL},
		{{"user", "add", "--role", "emperor", "--username", "x"}, 2, NULL},
		{{"user", "list", "extra"}, 2, NULL},
		{{"user", "passwd"}, 2, NULL},
		{{"user", "--help", "--port", "9000"}, 0, "dgov user"},
		{{"routes", "--help"}, 0, "dgov routes"},
		{{"routes", "extra"}, 2, NULL},
		{{"migrate", "--help"}, 0, "dgov migrate"},
		{{"migrate", "now"}, 2, NULL},
		{{"serve", "--help"}, 0, "dgov serve"},
		{{"serve", "extra"}, 2, NULL},
		{{"serve", "--port", "notaport"}, 2, NULL},
		{{"demo", "--help"}, 0, "dgov demo"},
		{{"demo", "--bogus"}, 2, NULL},
		{{"demo", "--rows", "-5"}, 2, NULL},
		{{"jobs", "--help"}, 0, "dgov jobs"},
		{{"jobs"}, 2, NULL},
		{{"jobs", "show"}, 2, NULL},
		{{"catalog", "--help"}, 0, "dgov catalog"},
		{{"catalog", "frob"}, 2, NULL},
		{{"exchange", "--help"}, 0, "dgov exchange"},
		{{"exchange", "verify"}, 2, NULL},
		{{"exchange", "key", "mz"}, 2, NULL},
		{{"exchange", "consent", "extra"}, 2, NULL},
		{{"exchange", "--help"}, 0, "consent"},
		{{"rule", "--help"}, -1, NULL}, /* the rule library's own; it opens no store */
		{{"--help"}, 0, "usage"},
		{{"help"}, 0, "usage"},
		{{"no-such-command"}, 2, NULL},
	};
	char dir[] = "/tmp/dgov-cli-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char out[65536], files[4096];
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int code = run_in(dir, calls[i].args, out, sizeof(out));
		listing(dir, files, sizeof(files));
		if (files[0] || (calls[i].code >= 0 && code != calls[i].code))
			fail_msg("dgov %s %s %s: exit %d (want %d), left in the folder: [%s]",
				 calls[i].args[0], calls[i].args[1] ? calls[i].args[1] : "",
				 calls[i].args[1] && calls[i].args[2] ? calls[i].args[2] : "", code,
				 calls[i].code, files);
		if (calls[i].stdout_has && !strstr(out, calls[i].stdout_has))
			fail_msg("dgov %s %s: the help does not say \"%s\": %.200s",
				 calls[i].args[0], calls[i].args[1] ? calls[i].args[1] : "",
				 calls[i].stdout_has, out);
	}
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_and_mistakes_touch_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
