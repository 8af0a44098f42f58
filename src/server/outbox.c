/*
 * outbox: single-writer rings in one anonymous shared mapping. Positions are
 * monotonic 64-bit byte offsets (ring offset = pos & (size - 1)); a record
 * never wraps: the writer pads to the end and starts over at offset 0.
 * Readers copy, then re-check the writer's head: a copy the writer may have
 * overwritten is thrown away as "lapped".
 */
#include "server/outbox.h"

#include "lib/line.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static size_t
outbox_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static struct outbox_prod_sh *
outbox_prod(const struct outbox_shm *shm, unsigned producer)
{
	char *base = shm->base;

	if (producer == 0)
		return (void *)base;
	return (void *)(base + shm->region0 +
			(size_t)(producer - 1) * shm->region);
}

static size_t
outbox_ring_size(const struct outbox_shm *shm, unsigned producer)
{
	return producer == 0 ? shm->ring0_size : shm->ring_size;
}

uint64_t
outbox_producer_head(const struct outbox_shm *shm, unsigned producer)
{
	return __atomic_load_n(&outbox_prod(shm, producer)->head,
			       __ATOMIC_ACQUIRE);
}

static char *
outbox_ring(const struct outbox_shm *shm, unsigned producer)
{
	return (char *)outbox_prod(shm, producer) + outbox_page();
}

static int
outbox_size_ok(size_t n)
{
	return n >= 4 * OUTBOX_REC_MAX && (n & (n - 1)) == 0;
}

int
outbox_shm_create(struct outbox_shm *shm, unsigned nprod, size_t ring0_size,
		  size_t ring_size, size_t tl_cap)
{
	size_t page = outbox_page();
	size_t tl_bytes;

	if (!outbox_size_ok(ring0_size) || !outbox_size_ok(ring_size) ||
	    (tl_cap & (tl_cap - 1)) || tl_cap == 0 || nprod == 0)
		return -EINVAL;
	memset(shm, 0, sizeof(*shm));
	shm->nprod = nprod;
	shm->ring0_size = ring0_size;
	shm->ring_size = ring_size;
	shm->region0 = page + ring0_size;
	shm->region = page + ring_size;
	tl_bytes = page + tl_cap * sizeof(struct timeline_entry);
	tl_bytes = (tl_bytes + page - 1) / page * page;
	shm->size = shm->region0 + shm->region * (nprod - 1) + tl_bytes;
	/* Anonymous and shared: inherited by every fork, named nowhere, gone
	 * with the last process. NORESERVE: only touched pages cost memory. */
	shm->base = mmap(NULL, shm->size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (shm->base == MAP_FAILED) {
		shm->base = NULL;
		return -errno;
	}
	shm->tl = (void *)((char *)shm->base + shm->size - tl_bytes);
	shm->tl->cap = tl_cap;
	shm->tl_ent = (void *)((char *)shm->tl + page);
	return 0;
}

void
outbox_shm_protect(struct outbox_shm *shm, int own)
{
	(void)mprotect(shm->base, shm->size, PROT_READ);
	if (own >= 0)
		(void)mprotect(outbox_prod(shm, (unsigned)own),
			       own == 0 ? shm->region0 : shm->region,
			       PROT_READ | PROT_WRITE);
}

void
outbox_shm_destroy(struct outbox_shm *shm)
{
	if (shm->base)
		munmap(shm->base, shm->size);
	shm->base = NULL;
}

void
outbox_writer_init(struct outbox_writer *w, struct outbox_shm *shm,
		   unsigned producer)
{
	w->shm = shm;
	w->producer = producer;
	w->sh = outbox_prod(shm, producer);
	w->ring = outbox_ring(shm, producer);
	w->head = __atomic_load_n(&w->sh->head, __ATOMIC_ACQUIRE);
}

static size_t
outbox_align(size_t n)
{
	return (n + OUTBOX_REC_ALIGN - 1) & ~(size_t)(OUTBOX_REC_ALIGN - 1);
}

static size_t
outbox_strlen(const char *s, size_t max)
{
	return s ? strnlen(s, max) : 0;
}

void
outbox_append(struct outbox_writer *w, uint16_t kind, uint16_t aux,
	      uint64_t src, uint64_t target, const uint64_t *ids, unsigned nids,
	      const char *nick, const char *room, const char *text,
	      size_t text_len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	outbox_append_at(w, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
			 kind, aux, src, target, ids, nids, nick, room, text,
			 text_len);
}

void
outbox_append_at(struct outbox_writer *w, int64_t ts_ms, uint16_t kind,
		 uint16_t aux, uint64_t src, uint64_t target,
		 const uint64_t *ids, unsigned nids, const char *nick,
		 const char *room, const char *text, size_t text_len)
{
	size_t size = outbox_ring_size(w->shm, w->producer), mask = size - 1;
	size_t nick_len = outbox_strlen(nick, OUTBOX_NICK_MAX);
	size_t room_len = outbox_strlen(room, OUTBOX_ROOM_MAX);

	if (nids > OUTBOX_IDS_MAX)
		nids = OUTBOX_IDS_MAX;
	text_len = line_utf8_cut(text, text_len, OUTBOX_TEXT_MAX);
	size_t len = outbox_align(sizeof(struct outbox_rec) + nids * 8 +
				  nick_len + room_len + text_len);
	size_t off = w->head & mask;
	if (off + len > size) {
		struct outbox_rec *pad = (void *)(w->ring + off);
		pad->len = (uint32_t)(size - off);
		pad->kind = OUTBOX_PAD;
		w->head += pad->len;
		__atomic_store_n(&w->sh->head, w->head, __ATOMIC_RELEASE);
		off = 0;
	}
	struct outbox_rec *r = (void *)(w->ring + off);
	*r = (struct outbox_rec){
	    .len = (uint32_t)len,
	    .kind = kind,
	    .nick_len = (uint8_t)nick_len,
	    .room_len = (uint8_t)room_len,
	    .src = src,
	    .target = target,
	    .ts_ms = ts_ms,
	    .text_len = (uint32_t)text_len,
	    .nids = (uint16_t)nids,
	    .aux = aux,
	};
	char *p = (char *)(r + 1);
	if (nids) {
		memcpy(p, ids, nids * 8);
		p += nids * 8;
	}
	if (nick_len)
		memcpy(p, nick, nick_len);
	p += nick_len;
	if (room_len)
		memcpy(p, room, room_len);
	p += room_len;
	if (text_len)
		memcpy(p, text, text_len);
	w->head += len;
	/* Visible at once (marks still decide what readers take): the
	 * writer never holds more than one unpublished record, which is the
	 * margin outbox_read's lap check relies on. */
	__atomic_store_n(&w->sh->head, w->head, __ATOMIC_RELEASE);
}

int
outbox_publish(struct outbox_writer *w)
{
	__atomic_store_n(&w->sh->head, w->head, __ATOMIC_SEQ_CST);
	return __atomic_exchange_n(&w->sh->mark_pending, 1, __ATOMIC_SEQ_CST) ==
	       0;
}

uint64_t
outbox_take_mark(struct outbox_shm *shm, unsigned producer)
{
	struct outbox_prod_sh *sh = outbox_prod(shm, producer);

	__atomic_store_n(&sh->mark_pending, 0, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&sh->head, __ATOMIC_SEQ_CST);
}

void
outbox_timeline_append(struct outbox_shm *shm, unsigned producer, uint64_t head)
{
	uint64_t h = shm->tl->head;
	struct timeline_entry *e = &shm->tl_ent[h & (shm->tl->cap - 1)];

	e->producer = producer;
	e->head = head;
	__atomic_store_n(&shm->tl->head, h + 1, __ATOMIC_SEQ_CST);
}

int
outbox_timeline_read(const struct outbox_shm *shm, uint64_t pos,
		     struct timeline_entry *out)
{
	uint64_t cap = shm->tl->cap;
	uint64_t head = __atomic_load_n(&shm->tl->head, __ATOMIC_ACQUIRE);

	if (pos >= head)
		return 0;
	if (head - pos >= cap)
		return -ESTALE;
	*out = shm->tl_ent[pos & (cap - 1)];
	/* The copy is good only if the supervisor has not since started to
	 * write the slot: it writes entry h before publishing h + 1. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = __atomic_load_n(&shm->tl->head, __ATOMIC_ACQUIRE);
	if (head - pos >= cap)
		return -ESTALE;
	return 1;
}

int
outbox_decode(const void *buf, size_t len, struct outbox_view *view)
{
	const struct outbox_rec *r = buf;

	if (len < sizeof(*r) || r->len != len || r->nids > OUTBOX_IDS_MAX ||
	    r->text_len > OUTBOX_TEXT_MAX || r->nick_len > OUTBOX_NICK_MAX ||
	    r->room_len > OUTBOX_ROOM_MAX)
		return -EBADMSG;
	size_t need = sizeof(*r) + (size_t)r->nids * 8 + r->nick_len +
		      r->room_len + r->text_len;
	if (need > len)
		return -EBADMSG;
	view->rec = r;
	view->ids = (const uint64_t *)(const void *)(r + 1);
	view->nick = (const char *)(r + 1) + (size_t)r->nids * 8;
	view->room = view->nick + r->nick_len;
	view->text = view->room + r->room_len;
	return 0;
}

int
outbox_read(const struct outbox_shm *shm, unsigned producer, uint64_t *pos,
	    uint64_t limit, void *buf, struct outbox_view *view)
{
	const struct outbox_prod_sh *sh = outbox_prod(shm, producer);
	const char *ring = outbox_ring(shm, producer);
	size_t size = outbox_ring_size(shm, producer), mask = size - 1;

	for (;;) {
		if (*pos >= limit)
			return 0;
		uint64_t head = __atomic_load_n(&sh->head, __ATOMIC_ACQUIRE);
		if (head - *pos > size)
			return -ESTALE;
		size_t off = *pos & mask;
		uint32_t len;
		memcpy(&len, ring + off, sizeof(len));
		if (len < OUTBOX_REC_ALIGN || len % OUTBOX_REC_ALIGN ||
		    off + len > size || len > OUTBOX_REC_MAX)
			goto check_lapped;
		memcpy(buf, ring + off, len);
		/* Everything copied must predate the head we now load: if the
		 * writer got within a record of our start, it may have torn
		 * the copy. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		head = __atomic_load_n(&sh->head, __ATOMIC_ACQUIRE);
		if (head + OUTBOX_REC_MAX - *pos > size)
			return -ESTALE;
		*pos += len;
		if (((const struct outbox_rec *)buf)->kind == OUTBOX_PAD)
			continue;
		if (outbox_decode(buf, len, view) < 0)
			return -EBADMSG;
		return 1;
	check_lapped:
		head = __atomic_load_n(&sh->head, __ATOMIC_ACQUIRE);
		return head + OUTBOX_REC_MAX - *pos > size ? -ESTALE : -EBADMSG;
	}
}
