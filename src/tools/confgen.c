/*
 * confgen: prints the default config file (every key of the options
 * table, its help and its default) on stdout: `make conf` writes it to
 * etc/parleyd.conf, and a unit test checks that the two agree.
 */
#include "server/config_file.h"

#include <stdio.h>

int
main(void)
{
	config_file_write_defaults(stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}
