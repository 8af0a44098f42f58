/*
 * Integration tests of accounts as IRC clients meet them, against the
 * real parleyd with a database of the test's own: a nickname registered
 * (by a plain client, /register) is refused to an IRC client that is not
 * logged in to it, with 433 and words that say why, before registration
 * and after it; a nickname nobody registered stays first come, first
 * served.
 */
#include "../irc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S    ":" IRC_SERVER " "
#define WAIT IRC_WAIT_MS

static char t_model[256];

/* A fresh database in its own directory; dir is removed by db_free. */
struct db {
	char dir[64];
	char args[160];
};

static int
db_make(struct db *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/parley-ircacct.XXXXXX");
	if (!mkdtemp(d->dir))
		return 0;
	snprintf(d->args, sizeof(d->args), "--db %s/parley.db --nick-grace 0",
		 d->dir);
	return 1;
}

static void
db_free(const struct db *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
	CHECK(system(cmd) == 0);
}

/* A plain client registers nick with a password, then leaves: the
 * nickname is free on the server (the IRC client watcher, in #lobby,
 * saw it quit) and registered in the store. */
static int
register_and_leave(const struct ts_server *s, int watcher, const char *nick)
{
	char old[64], want[128];
	int fd = tc_join(s->port, old, sizeof(old));

	if (!CHECKF(fd >= 0, "plain client cannot join"))
		return 0;
	tc_send(fd, "/nick %s\n", nick);
	snprintf(want, sizeof(want), "is now known as %s", nick);
	int ok = CHECK(tc_expect(fd, want, NULL, 0, WAIT) > 0);
	tc_send(fd, "/register hunter22\n");
	snprintf(want, sizeof(want), "-!- registered %s", nick);
	ok = ok && CHECK(tc_expect(fd, want, NULL, 0, WAIT) > 0);
	tc_send(fd, "/quit\n");
	snprintf(want, sizeof(want), ":%s!* QUIT *", nick);
	ok = ok && IRC_UNTIL(watcher, want);
	tc_close(fd);
	return ok;
}

static void
test_a_registered_nickname_is_refused_to_an_irc_client_with_433(void)
{
	struct db d;
	REQUIRE(db_make(&d));
	struct ts_server *s = irc_start(t_model, d.args);
	REQUIRE(s);
	int b = irc_login(s, "bob", NULL);
	REQUIRE(b >= 0);
	irc_send(b, "JOIN #lobby");
	REQUIRE(IRC_UNTIL(b, S "366 bob #lobby :*"));
	REQUIRE(register_and_leave(s, b, "alice"));
	int a = irc_connect(s);
	REQUIRE(a >= 0);
	int fds[] = {a, b};
	static const struct irc_step steps[] = {
	    /* Before registration: the client picks another, as for 433. */
	    {0,
	     "NICK alice",
	     {{0, S "433 * alice :Nickname is registered to an account; log "
		    "in to use it"}}},
	    {0,
	     "NICK ALICE",
	     {{0, S "433 * ALICE :Nickname is registered to an account; log "
		    "in to use it"}}},
	    {0, "USER a 0 * :A", {{0, NULL}}},
	    {0, "NICK alice_", {{0, S "001 alice_ :*"}}},
	    /* After it, the same; the client keeps its nickname. */
	    {1,
	     "NICK alice",
	     {{1, S "433 bob alice :Nickname is registered to an account; "
		    "log in to use it"}}},
	    {1, "NICK carol", {{1, ":bob!*@* NICK :carol"}}},
	};
	CHECK(IRC_EXCHANGE(fds, steps));
	tc_close(a);
	tc_close(b);
	ts_free(s);
	db_free(&d);
}

int
main(int argc, char **argv)
{
	char suite[64];

	tl_init(argc, argv, "irc_accounts", t_model, sizeof(t_model), suite);
	RUN(test_a_registered_nickname_is_refused_to_an_irc_client_with_433);
	return tl_summary(suite);
}
