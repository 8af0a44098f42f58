/*
 * store_accounts: accounts in the store process: password rules, yescrypt
 * hashing (libcrypt), constant-time checks, and failed-login rate limits
 * per account and per address. Store process only: the supervisor never
 * hashes and never waits for it. Passwords are wiped after use and never
 * logged.
 */
#ifndef PARLEY_STORE_ACCOUNTS_H
#define PARLEY_STORE_ACCOUNTS_H

#include "lib/strmap.h"
#include "server/channel.h"
#include "server/store_db.h"

#include <stddef.h>

#define STORE_PASS_MIN 8		/* bytes */
#define STORE_PASS_MAX CHANNEL_PASS_MAX /* bytes */
#define STORE_HASH_MAX 256

/* Failed logins allowed at once, and how fast that allowance comes back:
 * a key with no failures left waits (without its password being checked)
 * until one has come back. */
struct store_limit_rule {
	double burst;
	long long every_ms;
};

#define STORE_LIMIT_ACCOUNT                                                    \
	{                                                                      \
		5, 60000                                                       \
	} /* 5, then one a minute */
#define STORE_LIMIT_ADDRESS                                                    \
	{                                                                      \
		20, 15000                                                      \
	}
#define STORE_LIMIT_KEYS 65536 /* addresses and accounts remembered */

struct store_bucket {
	double tokens;
	long long ms; /* when tokens was right */
	struct store_bucket *prev, *next;
};

struct store_limiter {
	struct store_limit_rule rule;
	struct strmap keys; /* key -> struct store_bucket */
	struct store_bucket *all;
	size_t nkeys;
};

/* Pure. A password is STORE_PASS_MIN to STORE_PASS_MAX bytes of
 * printable characters, no spaces. Returns 1 if pass is one. */
int store_password_ok(const char *pass);

/* Hashes pass with a fresh yescrypt salt into out (n bytes). Blocks for
 * tens of ms. Returns 0 or -errno. */
int store_hash(const char *pass, char *out, size_t n)
    __attribute__((warn_unused_result));

/* 1 if pass matches hash, else 0; the comparison takes the same time
 * wherever the hashes differ. Blocks like store_hash. */
int store_verify(const char *pass, const char *hash);

void store_limiter_init(struct store_limiter *l, struct store_limit_rule rule);
void store_limiter_free(struct store_limiter *l);

/* Pure but for the map: 0 if key may try at now_ms, else the seconds
 * (at least 1) before it may. */
unsigned store_limiter_wait(struct store_limiter *l, const char *key,
			    long long now_ms);

/* key failed at now_ms: takes one of its tries. */
void store_limiter_fail(struct store_limiter *l, const char *key,
			long long now_ms);

/* key succeeded: forgets its failures. */
void store_limiter_clear(struct store_limiter *l, const char *key);

/* ---- the operations ---- */

struct store_accounts {
	struct store_limiter by_account, by_addr;
	char dummy[STORE_HASH_MAX]; /* checked for unknown accounts: the
				       same time as a real one */
};

void store_accounts_init(struct store_accounts *a);
void store_accounts_free(struct store_accounts *a);

/* What an operation changed in the set of registered nicknames. */
struct store_nick_change {
	int op; /* enum channel_nicks_op, 0: none */
	char name[CHANNEL_NICK_MAX + 1];
};

/* Carries out req (CORE_REGISTER, LOGIN, PASSWORD, UNREGISTER) against
 * db, inside its open transaction, and fills done (tag included). Returns
 * 1 if it wrote to db (the caller commits at once, and on failure
 * answers CORE_ERR_STORE_DOWN instead), else 0. Wipes req's passwords. */
int store_accounts_run(struct store_accounts *a, struct store_db *db,
		       struct channel_store_account *req, long long now_ms,
		       struct channel_store_done *done,
		       struct store_nick_change *chg);

#endif
