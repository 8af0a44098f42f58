/*
 * store_accounts: registering, logging in, changing and deleting
 * passwords, in the store process. Hashes are yescrypt ("$y$", libcrypt's
 * default cost); a check of an unknown account hashes too, so its timing
 * tells nothing. Failed logins take tokens from two buckets (the account,
 * the address); an empty bucket refuses without checking the password.
 */
#include "server/store_accounts.h"

#include "lib/log.h"
#include "server/core.h"
#include "server/names.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- passwords ----------------------------------------------------------- */

int
store_password_ok(const char *pass)
{
	size_t n = strlen(pass);

	if (n < STORE_PASS_MIN || n > STORE_PASS_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pass[i] <= ' ' || pass[i] == 0x7f)
			return 0;
	return 1;
}

/* libcrypt's state is 32 KiB: one per process, reused. */
static struct crypt_data *
store_crypt_data(void)
{
	static struct crypt_data *cd;

	if (!cd && !(cd = calloc(1, sizeof(*cd))))
		fatal("crypt data");
	return cd;
}

int
store_hash(const char *pass, char *out, size_t n)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *h;

	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
		return errno ? -errno : -EINVAL;
	h = crypt_r(pass, salt, store_crypt_data());
	if (!h || h[0] == '*' || strlen(h) >= n)
		return -EINVAL;
	snprintf(out, n, "%s", h);
	return 0;
}

int
store_verify(const char *pass, const char *hash)
{
	const char *h = crypt_r(pass, hash, store_crypt_data());
	size_t n = strlen(hash);
	volatile unsigned char diff = 0;

	if (!h || h[0] == '*')
		return 0;
	/* Same length for the same setting; compare every byte anyway. */
	diff |= (unsigned char)(strlen(h) != n);
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(h[i] ^ hash[i]);
	return diff == 0;
}

/* ---- rate limits --------------------------------------------------------- */

void
store_limiter_init(struct store_limiter *l, struct store_limit_rule rule)
{
	memset(l, 0, sizeof(*l));
	l->rule = rule;
}

void
store_limiter_free(struct store_limiter *l)
{
	while (l->all) {
		struct store_bucket *b = l->all;
		l->all = b->next;
		free(b);
	}
	strmap_free(&l->keys);
	memset(&l->keys, 0, sizeof(l->keys));
	l->nkeys = 0;
}

/* b brought up to now_ms. */
static void
store_bucket_refill(const struct store_limit_rule *r, struct store_bucket *b,
		    long long now_ms)
{
	if (now_ms > b->ms) {
		b->tokens += (double)(now_ms - b->ms) / (double)r->every_ms;
		if (b->tokens > r->burst)
			b->tokens = r->burst;
	}
	b->ms = now_ms;
}

unsigned
store_limiter_wait(struct store_limiter *l, const char *key, long long now_ms)
{
	struct store_bucket *b = strmap_get(&l->keys, key);
	double ms;

	if (!b)
		return 0;
	store_bucket_refill(&l->rule, b, now_ms);
	if (b->tokens >= 1)
		return 0;
	ms = (1 - b->tokens) * (double)l->rule.every_ms;
	return (unsigned)((ms + 999) / 1000);
}

void
store_limiter_fail(struct store_limiter *l, const char *key, long long now_ms)
{
	struct store_bucket *b = strmap_get(&l->keys, key);

	if (!b) {
		/* A flood of new keys must not grow without bound: past the
		 * cap, start over (the tokens they had come back anyway). */
		if (l->nkeys >= STORE_LIMIT_KEYS)
			store_limiter_free(l);
		b = malloc(sizeof(*b));
		if (!b)
			return;
		*b = (struct store_bucket){l->rule.burst, now_ms, NULL, l->all};
		if (strmap_put(&l->keys, key, b) < 0) {
			free(b);
			return;
		}
		if (l->all)
			l->all->prev = b;
		l->all = b;
		l->nkeys++;
	}
	store_bucket_refill(&l->rule, b, now_ms);
	b->tokens = b->tokens >= 1 ? b->tokens - 1 : 0;
}

void
store_limiter_clear(struct store_limiter *l, const char *key)
{
	struct store_bucket *b = strmap_del(&l->keys, key);

	if (!b)
		return;
	if (b->prev)
		b->prev->next = b->next;
	else
		l->all = b->next;
	if (b->next)
		b->next->prev = b->prev;
	free(b);
	l->nkeys--;
}

/* ---- operations ---------------------------------------------------------- */

void
store_accounts_init(struct store_accounts *a)
{
	store_limiter_init(&a->by_account,
			   (struct store_limit_rule)STORE_LIMIT_ACCOUNT);
	store_limiter_init(&a->by_addr,
			   (struct store_limit_rule)STORE_LIMIT_ADDRESS);
	if (store_hash("parley-no-such-account", a->dummy, sizeof(a->dummy)) <
	    0)
		fatalx("yescrypt is not available in this libcrypt");
}

void
store_accounts_free(struct store_accounts *a)
{
	store_limiter_free(&a->by_account);
	store_limiter_free(&a->by_addr);
}

static void
store_done_err(struct channel_store_done *done, enum core_err err,
	       const char *arg, uint64_t num)
{
	done->err = (uint16_t)err;
	done->num = num;
	snprintf(done->arg, sizeof(done->arg), "%s", arg ? arg : "");
}

/* Checks name's password against its buckets. Returns 1 (the account
 * exists and pass is right; display filled), or 0 with done filled. */
static int
store_accounts_check(struct store_accounts *a, struct store_db *db,
		     const char *name, const char *pass, const char *addr,
		     long long now_ms, char *display, size_t display_n,
		     struct channel_store_done *done)
{
	char folded[CHANNEL_NICK_MAX + 1], hash[STORE_HASH_MAX];
	unsigned wait_a, wait_b;
	int found;

	names_fold(name, folded, sizeof(folded));
	wait_a = store_limiter_wait(&a->by_account, folded, now_ms);
	wait_b = store_limiter_wait(&a->by_addr, addr, now_ms);
	if (wait_a || wait_b) {
		log_info("login for %s from %s refused: too many "
			 "failures",
			 name, addr);
		store_done_err(done, CORE_ERR_LOGIN_LIMITED, name,
			       wait_a > wait_b ? wait_a : wait_b);
		return 0;
	}
	found = store_db_account_get(db, name, display, display_n, hash,
				     sizeof(hash));
	if (found < 0) {
		store_done_err(done, CORE_ERR_STORE_DOWN, NULL, 0);
		return 0;
	}
	if (found && store_verify(pass, hash)) {
		store_limiter_clear(&a->by_account, folded);
		return 1;
	}
	if (!found)
		(void)store_verify(pass, a->dummy);
	else
		store_limiter_fail(&a->by_account, folded, now_ms);
	store_limiter_fail(&a->by_addr, addr, now_ms);
	log_info("failed login for %s from %s", name, addr);
	store_done_err(done, CORE_ERR_LOGIN_FAILED, name, 0);
	return 0;
}

static int
store_accounts_register(struct store_db *db,
			const struct channel_store_account *req,
			long long now_ms, struct channel_store_done *done,
			struct store_nick_change *chg)
{
	char hash[STORE_HASH_MAX];
	int err;

	if (!store_password_ok(req->pass)) {
		store_done_err(done, CORE_ERR_PASSWORD_INVALID, NULL,
			       STORE_PASS_MIN);
		return 0;
	}
	if (store_hash(req->pass, hash, sizeof(hash)) < 0 ||
	    store_db_begin(db) < 0) {
		store_done_err(done, CORE_ERR_STORE_DOWN, NULL, 0);
		return 0;
	}
	err = store_db_account_add(db, req->name, hash, now_ms);
	if (err == -EEXIST) {
		store_done_err(done, CORE_ERR_ACCOUNT_EXISTS, req->name, 0);
		return 0;
	}
	if (err < 0) {
		store_done_err(done, CORE_ERR_STORE_DOWN, NULL, 0);
		return 0;
	}
	snprintf(done->name, sizeof(done->name), "%s", req->name);
	chg->op = CHANNEL_NICKS_ADD;
	snprintf(chg->name, sizeof(chg->name), "%s", req->name);
	log_info("registered %s", req->name);
	return 1;
}

int
store_accounts_run(struct store_accounts *a, struct store_db *db,
		   struct channel_store_account *req, long long now_ms,
		   struct channel_store_done *done,
		   struct store_nick_change *chg)
{
	char display[CHANNEL_NICK_MAX + 1], hash[STORE_HASH_MAX];
	int wrote = 0;

	memset(done, 0, sizeof(*done));
	memset(chg, 0, sizeof(*chg));
	done->tag = req->tag;
	req->name[sizeof(req->name) - 1] = '\0';
	req->addr[sizeof(req->addr) - 1] = '\0';
	req->pass[sizeof(req->pass) - 1] = '\0';
	req->pass2[sizeof(req->pass2) - 1] = '\0';
	switch (req->op) {
	case CORE_REGISTER:
		wrote = store_accounts_register(db, req, now_ms, done, chg);
		break;
	case CORE_LOGIN:
		if (store_accounts_check(a, db, req->name, req->pass, req->addr,
					 now_ms, display, sizeof(display),
					 done))
			snprintf(done->name, sizeof(done->name), "%s", display);
		break;
	case CORE_PASSWORD:
		if (!store_accounts_check(a, db, req->name, req->pass,
					  req->addr, now_ms, display,
					  sizeof(display), done))
			break;
		if (!store_password_ok(req->pass2)) {
			store_done_err(done, CORE_ERR_PASSWORD_INVALID, NULL,
				       STORE_PASS_MIN);
			break;
		}
		if (store_hash(req->pass2, hash, sizeof(hash)) < 0 ||
		    store_db_begin(db) < 0 ||
		    store_db_account_set_hash(db, req->name, hash) < 0) {
			store_done_err(done, CORE_ERR_STORE_DOWN, NULL, 0);
			break;
		}
		snprintf(done->name, sizeof(done->name), "%s", display);
		log_info("password of %s changed", display);
		wrote = 1;
		break;
	case CORE_UNREGISTER:
		if (!store_accounts_check(a, db, req->name, req->pass,
					  req->addr, now_ms, display,
					  sizeof(display), done))
			break;
		if (store_db_begin(db) < 0 ||
		    store_db_account_del(db, req->name) < 0) {
			store_done_err(done, CORE_ERR_STORE_DOWN, NULL, 0);
			break;
		}
		snprintf(done->name, sizeof(done->name), "%s", display);
		chg->op = CHANNEL_NICKS_DEL;
		snprintf(chg->name, sizeof(chg->name), "%s", display);
		log_info("unregistered %s", display);
		wrote = 1;
		break;
	case CORE_OPER:
		/* name: the operator, pass: the password, pass2: the hash
		 * the supervisor has for it (its config may be newer). */
		if (store_verify(req->pass, req->pass2))
			snprintf(done->name, sizeof(done->name), "%s",
				 req->name);
		else
			store_done_err(done, CORE_ERR_OPER_FAILED, NULL, 0);
		break;
	default:
		store_done_err(done, CORE_ERR_UNAVAILABLE, NULL, 0);
		break;
	}
	explicit_bzero(req->pass, sizeof(req->pass));
	explicit_bzero(req->pass2, sizeof(req->pass2));
	return wrote;
}
