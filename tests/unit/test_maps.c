/*
 * Unit tests for src/lib/strmap and src/lib/idmap: put/get/del, replace,
 * tombstones under churn, re-inserts, growth, and random operations
 * checked against a plain array.
 */
#include "lib/idmap.h"
#include "lib/strmap.h"

#include "../testlib.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
/* ---- helpers ------------------------------------------------------------ */

/* A deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t t_rng = 0x9E3779B97F4A7C15ull;

static uint64_t
rnd(void)
{
	t_rng ^= t_rng >> 12;
	t_rng ^= t_rng << 25;
	t_rng ^= t_rng >> 27;
	return t_rng * 0x2545F4914F6CDD1Dull;
}

static void *
val(size_t i)
{
	return (void *)(uintptr_t)(i * 16 + 8);
}

static int
is_pow2(size_t n)
{
	return n && (n & (n - 1)) == 0;
}

/* ---- strmap ------------------------------------------------------------- */

static void
test_strmap_empty_map_finds_nothing(void)
{
	struct strmap m = {0};

	CHECK(strmap_get(&m, "x") == NULL);
	CHECK(strmap_del(&m, "x") == NULL);
	CHECK(m.used == 0 && m.cap == 0);
	strmap_free(&m);
}

static void
test_strmap_put_get_replace_and_del(void)
{
	struct strmap m = {0};
	int a, b;

	REQUIRE(strmap_put(&m, "alice", &a) == 0);
	CHECK(strmap_get(&m, "alice") == &a);
	CHECK(strmap_get(&m, "Alice") == NULL);
	CHECK(strmap_get(&m, "alic") == NULL);
	CHECK(m.used == 1 && is_pow2(m.cap));
	REQUIRE(strmap_put(&m, "alice", &b) == 0);
	CHECK(strmap_get(&m, "alice") == &b);
	CHECK(m.used == 1);
	REQUIRE(strmap_put(&m, "", &a) == 0);
	CHECK(strmap_get(&m, "") == &a);
	CHECK(strmap_del(&m, "alice") == &b);
	CHECK(strmap_get(&m, "alice") == NULL);
	CHECK(strmap_del(&m, "alice") == NULL);
	CHECK(m.used == 1);
	CHECK(strmap_get(&m, "") == &a);
	strmap_free(&m);
	CHECK(m.slots == NULL && m.cap == 0 && m.used == 0 && m.dead == 0);
	/* Usable again after free. */
	REQUIRE(strmap_put(&m, "again", &a) == 0);
	CHECK(strmap_get(&m, "again") == &a);
	strmap_free(&m);
}

static void
test_strmap_copies_keys(void)
{
	struct strmap m = {0};
	char key[16] = "room";
	int a;

	REQUIRE(strmap_put(&m, key, &a) == 0);
	strcpy(key, "xxxx");
	CHECK(strmap_get(&m, "room") == &a);
	CHECK(strmap_get(&m, "xxxx") == NULL);
	strmap_free(&m);
}

static void
test_strmap_many_keys_with_deletes_and_reinserts_grow_correctly(void)
{
	enum { N = 5000 };
	struct strmap m = {0};
	char key[32];

	for (size_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		REQUIRE(strmap_put(&m, key, val(i)) == 0);
	}
	CHECK(m.used == N && is_pow2(m.cap) && m.used * 10 < m.cap * 7);
	for (size_t i = 1; i < N; i += 2) {
		snprintf(key, sizeof(key), "key%zu", i);
		CHECK(strmap_del(&m, key) == val(i));
	}
	CHECK(m.used == N / 2);
	for (size_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		if (!CHECKF(strmap_get(&m, key) == (i % 2 ? NULL : val(i)),
			    "after deletes: %s", key))
			break;
	}
	for (size_t i = 1; i < N; i += 2) {
		snprintf(key, sizeof(key), "key%zu", i);
		REQUIRE(strmap_put(&m, key, val(i + N)) == 0);
	}
	CHECK(m.used == N);
	for (size_t i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%zu", i);
		if (!CHECKF(strmap_get(&m, key) ==
				(i % 2 ? val(i + N) : val(i)),
			    "after re-inserts: %s", key))
			break;
	}
	CHECK((m.used + m.dead) * 10 < m.cap * 7);
	strmap_free(&m);
}

static void
test_strmap_churn_keeps_table_bounded_and_lookups_terminate(void)
{
	struct strmap m = {0};
	char key[32];

	for (size_t round = 0; round < 20000; round++) {
		snprintf(key, sizeof(key), "nick%zu", round);
		REQUIRE(strmap_put(&m, key, val(round)) == 0);
		REQUIRE(strmap_get(&m, key) == val(round));
		REQUIRE(strmap_del(&m, key) == val(round));
		/* A miss must stop at an empty slot. */
		REQUIRE(strmap_get(&m, "absent") == NULL);
	}
	CHECK(m.used == 0);
	CHECKF(m.cap <= 64, "cap grew to %zu with no live keys", m.cap);
	CHECK((m.used + m.dead) < m.cap);
	strmap_free(&m);
}

static void
test_strmap_matches_a_reference_model_under_random_operations(void)
{
	enum { KEYS = 400, OPS = 60000 };
	static void *model[KEYS];
	struct strmap m = {0};
	size_t live = 0;
	char key[32];

	memset(model, 0, sizeof(model));
	for (size_t op = 0; op < OPS; op++) {
		size_t k = (size_t)(rnd() % KEYS);
		snprintf(key, sizeof(key), "k-%zu", k * 7919);
		switch (rnd() % 3) {
		case 0:
		case 1:
			REQUIRE(strmap_put(&m, key, val(op)) == 0);
			live += model[k] == NULL;
			model[k] = val(op);
			break;
		default:
			if (!CHECKF(strmap_del(&m, key) == model[k],
				    "op %zu: del %s", op, key))
				goto out;
			live -= model[k] != NULL;
			model[k] = NULL;
		}
		if (!CHECKF(strmap_get(&m, key) == model[k], "op %zu: get %s",
			    op, key) ||
		    !CHECK(m.used == live))
			goto out;
	}
	for (size_t k = 0; k < KEYS; k++) {
		snprintf(key, sizeof(key), "k-%zu", k * 7919);
		CHECK(strmap_get(&m, key) == model[k]);
	}
out:
	strmap_free(&m);
}

/* ---- idmap -------------------------------------------------------------- */

static void
test_idmap_empty_map_finds_nothing(void)
{
	struct idmap m = {0};

	CHECK(idmap_get(&m, 1) == NULL);
	CHECK(idmap_del(&m, 1) == NULL);
	CHECK(m.used == 0);
	idmap_free(&m);
}

static void
test_idmap_put_get_replace_and_del(void)
{
	struct idmap m = {0};
	int a, b;

	REQUIRE(idmap_put(&m, 42, &a) == 0);
	CHECK(idmap_get(&m, 42) == &a);
	CHECK(idmap_get(&m, 43) == NULL);
	REQUIRE(idmap_put(&m, 42, &b) == 0);
	CHECK(idmap_get(&m, 42) == &b && m.used == 1);
	REQUIRE(idmap_put(&m, UINT64_MAX - 1, &a) == 0);
	CHECK(idmap_get(&m, UINT64_MAX - 1) == &a);
	CHECK(idmap_del(&m, 42) == &b);
	CHECK(idmap_get(&m, 42) == NULL);
	CHECK(idmap_del(&m, 42) == NULL);
	CHECK(m.used == 1);
	CHECK(idmap_get(&m, UINT64_MAX - 1) == &a);
	idmap_free(&m);
	CHECK(m.slots == NULL && m.cap == 0 && m.used == 0);
}

static void
test_idmap_lookups_of_reserved_ids_find_nothing_and_change_nothing(void)
{
	struct idmap m = {0};
	int a;

	REQUIRE(idmap_put(&m, 7, &a) == 0);
	REQUIRE(idmap_put(&m, 8, &a) == 0);
	CHECK(idmap_del(&m, 8) == &a); /* leaves a tombstone */
	size_t used = m.used, dead = m.dead;
	CHECK(idmap_get(&m, 0) == NULL);
	CHECK(idmap_get(&m, UINT64_MAX) == NULL);
	CHECK(idmap_del(&m, 0) == NULL);
	CHECK(idmap_del(&m, UINT64_MAX) == NULL);
	CHECKF(m.used == used && m.dead == dead,
	       "used %zu -> %zu, dead %zu -> %zu", used, m.used, dead, m.dead);
	CHECK(idmap_get(&m, 7) == &a);
	idmap_free(&m);
}

static void
test_idmap_many_ids_with_deletes_and_reinserts_grow_correctly(void)
{
	enum { N = 20000 };
	struct idmap m = {0};

	/* Session-style ids: slot in the low 24 bits, sequence above, so
	 * many share low bits. */
	for (size_t i = 0; i < N; i++)
		REQUIRE(idmap_put(&m, ((uint64_t)(i + 1) << 24) | (i % 3),
				  val(i)) == 0);
	CHECK(m.used == N && is_pow2(m.cap) && m.used * 10 < m.cap * 7);
	for (size_t i = 0; i < N; i += 3)
		CHECK(idmap_del(&m, ((uint64_t)(i + 1) << 24) | (i % 3)) ==
		      val(i));
	for (size_t i = 0; i < N; i++) {
		void *want = i % 3 == 0 ? NULL : val(i);
		if (!CHECKF(idmap_get(&m, ((uint64_t)(i + 1) << 24) |
					      (i % 3)) == want,
			    "after deletes: id %zu", i))
			break;
	}
	for (size_t i = 0; i < N; i += 3)
		REQUIRE(idmap_put(&m, ((uint64_t)(i + 1) << 24) | (i % 3),
				  val(i + N)) == 0);
	CHECK(m.used == N);
	for (size_t i = 0; i < N; i++) {
		void *want = i % 3 == 0 ? val(i + N) : val(i);
		if (!CHECKF(idmap_get(&m, ((uint64_t)(i + 1) << 24) |
					      (i % 3)) == want,
			    "after re-inserts: id %zu", i))
			break;
	}
	idmap_free(&m);
}

static void
test_idmap_churn_keeps_table_bounded_and_lookups_terminate(void)
{
	struct idmap m = {0};

	for (uint64_t id = 1; id <= 50000; id++) {
		REQUIRE(idmap_put(&m, id, val(id)) == 0);
		REQUIRE(idmap_del(&m, id) == val(id));
		REQUIRE(idmap_get(&m, id + 1000000) == NULL);
	}
	CHECK(m.used == 0);
	CHECKF(m.cap <= 64, "cap grew to %zu with no live ids", m.cap);
	idmap_free(&m);
}

static void
test_idmap_matches_a_reference_model_under_random_operations(void)
{
	enum { KEYS = 500, OPS = 80000 };
	static uint64_t ids[KEYS];
	static void *model[KEYS];
	struct idmap m = {0};
	size_t live = 0;

	for (size_t k = 0; k < KEYS; k++) {
		do
			ids[k] = rnd();
		while (ids[k] == 0 || ids[k] == UINT64_MAX);
		model[k] = NULL;
	}
	for (size_t op = 0; op < OPS; op++) {
		size_t k = (size_t)(rnd() % KEYS);
		if (rnd() % 3 < 2) {
			REQUIRE(idmap_put(&m, ids[k], val(op)) == 0);
			live += model[k] == NULL;
			model[k] = val(op);
		} else {
			if (!CHECKF(idmap_del(&m, ids[k]) == model[k],
				    "op %zu: del", op))
				goto out;
			live -= model[k] != NULL;
			model[k] = NULL;
		}
		if (!CHECKF(idmap_get(&m, ids[k]) == model[k], "op %zu: get",
			    op) ||
		    !CHECK(m.used == live))
			goto out;
	}
	for (size_t k = 0; k < KEYS; k++)
		CHECK(idmap_get(&m, ids[k]) == model[k]);
out:
	idmap_free(&m);
}

int
main(void)
{
	RUN(test_strmap_empty_map_finds_nothing);
	RUN(test_strmap_put_get_replace_and_del);
	RUN(test_strmap_copies_keys);
	RUN(test_strmap_many_keys_with_deletes_and_reinserts_grow_correctly);
	RUN(test_strmap_churn_keeps_table_bounded_and_lookups_terminate);
	RUN(test_strmap_matches_a_reference_model_under_random_operations);
	RUN(test_idmap_empty_map_finds_nothing);
	RUN(test_idmap_put_get_replace_and_del);
	RUN(test_idmap_lookups_of_reserved_ids_find_nothing_and_change_nothing);
	RUN(test_idmap_many_ids_with_deletes_and_reinserts_grow_correctly);
	RUN(test_idmap_churn_keeps_table_bounded_and_lookups_terminate);
	RUN(test_idmap_matches_a_reference_model_under_random_operations);
	return tl_summary("unit_maps");
}
