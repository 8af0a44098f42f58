/*
 * fuzz_outbox: outbox_decode on a record copy of the input, and outbox_read
 * over a ring of producer 1 filled with the input's bytes at a head and
 * position the input chooses. Invariants: results are -ESTALE, -EBADMSG, 0
 * or 1; every field of a decoded view (ids, nick, user, host, acct, room,
 * arg, text) has its recorded length within its maximum and lies inside
 * the copy, in that order, back to back; nothing is read outside the
 * ring (the pages around it are PROT_NONE, the copy buffer is exactly
 * OUTBOX_REC_MAX bytes of ASan-checked heap).
 *
 * Input: [mode][8 bytes head][8 bytes pos][4 bytes limit delta][bytes...].
 */
#include "server/outbox.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_OUTBOX_RING (1u << 18) /* the smallest legal ring */

static struct outbox_shm fuzz_outbox_shm;
static void *fuzz_outbox_buf;

static void
fuzz_outbox_touch(const void *p, size_t n)
{
	volatile unsigned sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += ((const unsigned char *)p)[i];
	(void)sum;
}

/* One string of a view: its recorded length, within its maximum, inside
 * the copy, right where the previous one ended. Returns where it ends. */
static const char *
fuzz_outbox_check_str(const char *b, const char *end, const char *at,
		      struct outbox_str s, size_t rec_len, size_t max)
{
	assert(s.n == rec_len && s.n <= max);
	assert(s.p == at);
	assert(s.p >= b && s.p <= end && s.n <= (size_t)(end - s.p));
	fuzz_outbox_touch(s.p, s.n);
	return s.p + s.n;
}

static void
fuzz_outbox_check_view(const void *buf, size_t len, const struct outbox_view *v)
{
	const char *b = buf, *end = b + len, *at;
	const struct outbox_rec *r = v->rec;

	assert((const char *)r == b);
	assert(r->len == len);
	assert(r->nids <= OUTBOX_IDS_MAX);
	assert((const char *)v->ids == (const char *)(r + 1));
	assert((const char *)(v->ids + r->nids) <= end);
	fuzz_outbox_touch(v->ids, (size_t)r->nids * 8);
	/* The strings follow the ids in this order, back to back. */
	at = (const char *)(v->ids + r->nids);
	at = fuzz_outbox_check_str(b, end, at, v->nick, r->nick_len,
				   OUTBOX_NICK_MAX);
	at = fuzz_outbox_check_str(b, end, at, v->user, r->user_len,
				   OUTBOX_USER_MAX);
	at = fuzz_outbox_check_str(b, end, at, v->host, r->host_len,
				   OUTBOX_HOST_MAX);
	at = fuzz_outbox_check_str(b, end, at, v->acct, r->acct_len,
				   OUTBOX_ACCT_MAX);
	at = fuzz_outbox_check_str(b, end, at, v->room, r->room_len,
				   OUTBOX_ROOM_MAX);
	at = fuzz_outbox_check_str(b, end, at, v->arg, r->arg_len,
				   OUTBOX_ARG_MAX);
	(void)fuzz_outbox_check_str(b, end, at, v->text, r->text_len,
				    OUTBOX_TEXT_MAX);
}

static void
fuzz_outbox_setup(void)
{
	struct outbox_shm *shm = &fuzz_outbox_shm;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	/* Producers 0, 1, 2: fuzz producer 1 and fence it in. */
	assert(outbox_shm_create(shm, 3, FUZZ_OUTBOX_RING, FUZZ_OUTBOX_RING,
				 16) == 0);
	char *base = shm->base;
	char *prod1 = base + shm->region0;
	char *prod2 = prod1 + shm->region;
	/* The last page of producer 0's ring, then producer 1's control
	 * page (needed), its ring, then producer 2's control page. */
	assert(mprotect(prod1 - page, page, PROT_NONE) == 0);
	assert(mprotect(prod2, page, PROT_NONE) == 0);
	fuzz_outbox_buf = malloc(OUTBOX_REC_MAX);
	assert(fuzz_outbox_buf);
}

static void
fuzz_outbox_decode(const uint8_t *data, size_t size)
{
	struct outbox_view v;
	/* 8-aligned exact-size copy, as outbox_read hands it over. */
	void *copy = aligned_alloc(8, (size + 7) & ~(size_t)7);

	assert(copy || size == 0);
	if (!copy)
		return;
	memcpy(copy, data, size);
	if (outbox_decode(copy, size, &v) == 0)
		fuzz_outbox_check_view(copy, size, &v);
	free(copy);
}

static uint64_t
fuzz_outbox_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void
fuzz_outbox_ring(const uint8_t *data, size_t size)
{
	struct outbox_shm *shm = &fuzz_outbox_shm;
	struct outbox_view v;
	char *ring;
	uint64_t head, pos, limit;
	uint32_t delta;

	if (size < 1 + 8 + 8 + 4)
		return;
	uint8_t mode = data[0];
	head = fuzz_outbox_u64(data + 1);
	pos = fuzz_outbox_u64(data + 9);
	memcpy(&delta, data + 17, sizeof(delta));
	data += 21;
	size -= 21;
	/* Positions count bytes ever written: they never come near 2^64,
	 * so keep them where adding a record cannot wrap. */
	head &= (1ull << 62) - 1;
	pos &= (1ull << 62) - 1;
	if (mode & 1) {
		/* Mostly plausible: a reader somewhere behind the head. */
		head = (head & 0xFFFFFFFFull) + 2 * FUZZ_OUTBOX_RING;
		pos = head - (pos % (2 * FUZZ_OUTBOX_RING));
	}
	/* Positions are multiples of OUTBOX_REC_ALIGN in every real reader
	 * and writer (records and padding are aligned). */
	head &= ~(uint64_t)(OUTBOX_REC_ALIGN - 1);
	pos &= ~(uint64_t)(OUTBOX_REC_ALIGN - 1);
	limit = (mode & 2) ? head : pos + delta;

	struct outbox_prod_sh *sh = (void *)((char *)shm->base + shm->region0);
	ring = (char *)sh + sysconf(_SC_PAGESIZE);
	__atomic_store_n(&sh->head, head, __ATOMIC_RELEASE);
	memset(ring, mode & 4 ? 0xFF : 0, FUZZ_OUTBOX_RING);
	/* The input, tiled or placed at the reader's offset. */
	size_t off = pos & (FUZZ_OUTBOX_RING - 1);
	if (size > FUZZ_OUTBOX_RING)
		size = FUZZ_OUTBOX_RING;
	size_t first =
	    size < FUZZ_OUTBOX_RING - off ? size : FUZZ_OUTBOX_RING - off;
	memcpy(ring + off, data, first);
	memcpy(ring, data + first, size - first);

	for (int i = 0; i < 1024; i++) {
		uint64_t before = pos;
		int r = outbox_read(shm, 1, &pos, limit, fuzz_outbox_buf, &v);
		assert(r == 1 || r == 0 || r == -ESTALE || r == -EBADMSG);
		if (r != 1) {
			if (r == 0)
				assert(pos >= limit);
			break;
		}
		assert(pos > before);
		assert(pos - before <= FUZZ_OUTBOX_RING + OUTBOX_REC_MAX);
		fuzz_outbox_check_view(fuzz_outbox_buf, v.rec->len, &v);
	}

	/* The timeline reader on arbitrary positions. */
	struct timeline_entry e;
	__atomic_store_n(&shm->tl->head, head, __ATOMIC_RELEASE);
	int r = outbox_timeline_read(shm, pos, &e);
	assert(r == 1 || r == 0 || r == -ESTALE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_outbox_buf)
		fuzz_outbox_setup();
	fuzz_outbox_decode(data, size);
	fuzz_outbox_ring(data, size);
	return 0;
}
