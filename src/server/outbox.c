/*
 * outbox: single-writer rings in one shared mapping (of a memfd). Positions are
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The page size, asked once: outbox_ring() needs it for every record. */
static size_t
outbox_page(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
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

struct outbox_prod_sh *
outbox_producer_sh(const struct outbox_shm *shm, unsigned producer)
{
	return outbox_prod(shm, producer);
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

int
outbox_ring_discard(const struct outbox_shm *shm, unsigned producer)
{
	/* Punches the ring out of the shared memory object: every mapping
	 * of it reads zeros there, and its pages go back to the kernel. */
	if (madvise(outbox_ring(shm, producer), outbox_ring_size(shm, producer),
		    MADV_REMOVE) < 0)
		return -errno;
	return 0;
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
	return outbox_shm_create_readers(shm, nprod, nprod, ring0_size,
					 ring_size, tl_cap);
}

/* Fills in shm's geometry for these sizes (everything but the mapping
 * and its pointers); *tl_bytes: the timeline's share. 0 or -EINVAL. */
static int
outbox_shm_layout(struct outbox_shm *shm, unsigned nprod, unsigned nreaders,
		  size_t ring0_size, size_t ring_size, size_t tl_cap,
		  size_t *tl_bytes)
{
	size_t page = outbox_page();

	if (!outbox_size_ok(ring0_size) || !outbox_size_ok(ring_size) ||
	    (tl_cap & (tl_cap - 1)) || tl_cap == 0 || nprod == 0)
		return -EINVAL;
	memset(shm, 0, sizeof(*shm));
	shm->fd = -1;
	shm->nprod = nprod;
	shm->nreaders = nreaders;
	shm->page = page;
	shm->ring0_size = ring0_size;
	shm->ring_size = ring_size;
	shm->region0 = page + ring0_size;
	shm->region = page + ring_size;
	*tl_bytes = page + tl_cap * sizeof(struct timeline_entry);
	*tl_bytes = (*tl_bytes + page - 1) / page * page;
	/* The reader table goes between the rings and the timeline, a page
	 * per slot: mprotect can then let each reader write its own. */
	shm->size = shm->region0 + shm->region * (nprod - 1) +
		    (size_t)nreaders * page + *tl_bytes;
	return 0;
}

int
outbox_memfd(const char *name, size_t size)
{
	struct rlimit was, lifted;
	int fd, err = 0;

	/* A file size limit (ulimit -f) applies to a memfd too, and would
	 * make the ftruncate raise SIGXFSZ: it is lifted up to its hard
	 * limit for the ftruncate only (what this process writes to disk
	 * stays limited). */
	if (getrlimit(RLIMIT_FSIZE, &was) < 0)
		return -errno;
	if (was.rlim_max != RLIM_INFINITY && was.rlim_max < size)
		return -EFBIG;
	lifted = was;
	lifted.rlim_cur = was.rlim_max;
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (was.rlim_cur != was.rlim_max &&
	    setrlimit(RLIMIT_FSIZE, &lifted) < 0)
		err = -errno;
	if (!err && ftruncate(fd, (off_t)size) < 0)
		err = -errno;
	if (was.rlim_cur != was.rlim_max)
		(void)setrlimit(RLIMIT_FSIZE, &was);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* Maps shm->fd and points into it. 0 or -errno. */
static int
outbox_shm_map(struct outbox_shm *shm, size_t tl_bytes)
{
	/* NORESERVE: only touched pages cost memory (a memfd is created
	 * without a reservation anyway). */
	shm->base = mmap(NULL, shm->size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_NORESERVE, shm->fd, 0);
	if (shm->base == MAP_FAILED) {
		shm->base = NULL;
		return -errno;
	}
	shm->readers = (char *)shm->base + shm->size - tl_bytes -
		       (size_t)shm->nreaders * shm->page;
	shm->tl = (void *)((char *)shm->base + shm->size - tl_bytes);
	shm->tl_ent = (void *)((char *)shm->tl + shm->page);
	return 0;
}

int
outbox_shm_create_readers(struct outbox_shm *shm, unsigned nprod,
			  unsigned nreaders, size_t ring0_size,
			  size_t ring_size, size_t tl_cap)
{
	size_t tl_bytes;
	int err;

	if ((err = outbox_shm_layout(shm, nprod, nreaders, ring0_size,
				     ring_size, tl_cap, &tl_bytes)) < 0)
		return err;
	/* Shared memory named nowhere, gone with the last process that maps
	 * it or holds its fd: inherited by every fork, and passed as an fd
	 * to the store, which execs (outbox_shm_attach). */
	if ((shm->fd = outbox_memfd("parley-outbox", shm->size)) < 0)
		return shm->fd;
	if ((err = outbox_shm_map(shm, tl_bytes)) < 0) {
		close(shm->fd);
		shm->fd = -1;
		return err;
	}
	for (unsigned i = 0; i < nreaders; i++)
		outbox_reader(shm, i)->pos = OUTBOX_READER_OUT;
	shm->tl->cap = tl_cap;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	shm->tl->boot =
	    (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
	return 0;
}

int
outbox_shm_attach(struct outbox_shm *shm, int fd, unsigned nprod,
		  unsigned nreaders, size_t ring0_size, size_t ring_size,
		  size_t tl_cap)
{
	struct stat sb;
	size_t tl_bytes;
	int err;

	if ((err = outbox_shm_layout(shm, nprod, nreaders, ring0_size,
				     ring_size, tl_cap, &tl_bytes)) < 0)
		return err;
	if (fstat(fd, &sb) < 0)
		return -errno;
	if ((uint64_t)sb.st_size != shm->size)
		return -EINVAL;
	shm->fd = fd;
	if ((err = outbox_shm_map(shm, tl_bytes)) < 0) {
		shm->fd = -1;
		return err;
	}
	if (shm->tl->cap != tl_cap) {
		outbox_shm_destroy(shm);
		return -EINVAL;
	}
	return 0;
}

void
outbox_shm_protect(struct outbox_shm *shm, int own, int reader)
{
	(void)mprotect(shm->base, shm->size, PROT_READ);
	if (own >= 0)
		(void)mprotect(outbox_prod(shm, (unsigned)own),
			       own == 0 ? shm->region0 : shm->region,
			       PROT_READ | PROT_WRITE);
	if (reader >= 0 && (unsigned)reader < shm->nreaders)
		(void)mprotect(outbox_reader(shm, (unsigned)reader), shm->page,
			       PROT_READ | PROT_WRITE);
}

void
outbox_shm_destroy(struct outbox_shm *shm)
{
	if (shm->base)
		munmap(shm->base, shm->size);
	if (shm->fd >= 0)
		close(shm->fd);
	shm->base = NULL;
	shm->fd = -1;
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

/* Length of s cut to at most max bytes, never inside a UTF-8 sequence. */
static size_t
outbox_cut(struct outbox_str s, size_t max)
{
	return line_utf8_cut(s.p, s.n, max);
}

static char *
outbox_copy(char *p, const struct outbox_str *s, size_t n)
{
	if (n)
		memcpy(p, s->p, n);
	return p + n;
}

size_t
outbox_rec_size(const struct outbox_new *nr)
{
	unsigned nids = nr->nids > OUTBOX_IDS_MAX ? OUTBOX_IDS_MAX : nr->nids;

	return outbox_align(sizeof(struct outbox_rec) + nids * 8 +
			    outbox_cut(nr->nick, OUTBOX_NICK_MAX) +
			    outbox_cut(nr->user, OUTBOX_USER_MAX) +
			    outbox_cut(nr->host, OUTBOX_HOST_MAX) +
			    outbox_cut(nr->acct, OUTBOX_ACCT_MAX) +
			    outbox_cut(nr->room, OUTBOX_ROOM_MAX) +
			    outbox_cut(nr->arg, OUTBOX_ARG_MAX) +
			    outbox_cut(nr->text, OUTBOX_TEXT_MAX));
}

size_t
outbox_put_size(const struct outbox_writer *w, const struct outbox_new *nr)
{
	size_t size = outbox_ring_size(w->shm, w->producer);
	size_t off = w->head & (size - 1), len = outbox_rec_size(nr);

	return off + len > size ? size - off + len : len;
}

void
outbox_put(struct outbox_writer *w, const struct outbox_new *nr)
{
	size_t size = outbox_ring_size(w->shm, w->producer), mask = size - 1;
	size_t nick_len = outbox_cut(nr->nick, OUTBOX_NICK_MAX);
	size_t user_len = outbox_cut(nr->user, OUTBOX_USER_MAX);
	size_t host_len = outbox_cut(nr->host, OUTBOX_HOST_MAX);
	size_t acct_len = outbox_cut(nr->acct, OUTBOX_ACCT_MAX);
	size_t room_len = outbox_cut(nr->room, OUTBOX_ROOM_MAX);
	size_t arg_len = outbox_cut(nr->arg, OUTBOX_ARG_MAX);
	size_t text_len = outbox_cut(nr->text, OUTBOX_TEXT_MAX);
	unsigned nids = nr->nids > OUTBOX_IDS_MAX ? OUTBOX_IDS_MAX : nr->nids;
	int64_t ts_ms = nr->ts_ms;

	if (ts_ms == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	size_t len = outbox_align(sizeof(struct outbox_rec) + nids * 8 +
				  nick_len + user_len + host_len + acct_len +
				  room_len + arg_len + text_len);
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
	    .kind = nr->kind,
	    .aux = nr->aux,
	    .src = nr->src,
	    .target = nr->target,
	    .ts_ms = ts_ms,
	    .text_len = (uint32_t)text_len,
	    .nids = (uint16_t)nids,
	    .nick_len = (uint8_t)nick_len,
	    .user_len = (uint8_t)user_len,
	    .host_len = (uint8_t)host_len,
	    .acct_len = (uint8_t)acct_len,
	    .room_len = (uint8_t)room_len,
	    .arg_len = (uint8_t)arg_len,
	};
	char *p = (char *)(r + 1);
	if (nids) {
		memcpy(p, nr->ids, nids * 8);
		p += nids * 8;
	}
	p = outbox_copy(p, &nr->nick, nick_len);
	p = outbox_copy(p, &nr->user, user_len);
	p = outbox_copy(p, &nr->host, host_len);
	p = outbox_copy(p, &nr->acct, acct_len);
	p = outbox_copy(p, &nr->room, room_len);
	p = outbox_copy(p, &nr->arg, arg_len);
	(void)outbox_copy(p, &nr->text, text_len);
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
outbox_timeline_append(struct outbox_shm *shm, unsigned producer, uint64_t from,
		       uint64_t head)
{
	uint64_t h = shm->tl->head;
	struct timeline_entry *e = &shm->tl_ent[h & (shm->tl->cap - 1)];

	e->producer = producer;
	e->len =
	    head - from < UINT32_MAX ? (uint32_t)(head - from) : UINT32_MAX;
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

static const char *
outbox_take(struct outbox_str *out, const char *p, size_t n)
{
	out->p = p;
	out->n = n;
	return p + n;
}

int
outbox_decode(const void *buf, size_t len, struct outbox_view *view)
{
	const struct outbox_rec *r = buf;

	if (len < sizeof(*r) || r->len != len || r->nids > OUTBOX_IDS_MAX ||
	    r->text_len > OUTBOX_TEXT_MAX || r->nick_len > OUTBOX_NICK_MAX ||
	    r->user_len > OUTBOX_USER_MAX || r->host_len > OUTBOX_HOST_MAX ||
	    r->acct_len > OUTBOX_ACCT_MAX || r->room_len > OUTBOX_ROOM_MAX)
		return -EBADMSG;
	size_t need = sizeof(*r) + (size_t)r->nids * 8 + r->nick_len +
		      r->user_len + r->host_len + r->acct_len + r->room_len +
		      r->arg_len + r->text_len;
	if (need > len)
		return -EBADMSG;
	const char *p = (const char *)(r + 1) + (size_t)r->nids * 8;
	view->rec = r;
	view->ids = (const uint64_t *)(const void *)(r + 1);
	p = outbox_take(&view->nick, p, r->nick_len);
	p = outbox_take(&view->user, p, r->user_len);
	p = outbox_take(&view->host, p, r->host_len);
	p = outbox_take(&view->acct, p, r->acct_len);
	p = outbox_take(&view->room, p, r->room_len);
	p = outbox_take(&view->arg, p, r->arg_len);
	(void)outbox_take(&view->text, p, r->text_len);
	return 0;
}

size_t
outbox_msgid_at(const struct outbox_shm *shm, unsigned producer, uint64_t pos,
		char *out)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
	uint64_t parts[2] = {shm->tl->boot,
			     ((uint64_t)producer << 44) | (pos >> 3)};
	size_t n = 0;

	/* Two fixed-width base-32 numbers: 13 digits each, sortable within
	 * one run. */
	for (int k = 0; k < 2; k++)
		for (int i = 12; i >= 0; i--)
			out[n++] = digits[(parts[k] >> (5 * i)) & 31];
	out[n] = '\0';
	return n;
}

size_t
outbox_msgid(const struct outbox_shm *shm, const struct outbox_view *v,
	     char *out)
{
	size_t n;

	if (v->rec->kind != OUTBOX_HISTORY || !v->arg.n)
		return outbox_msgid_at(shm, v->producer, v->pos, out);
	n = v->arg.n < OUTBOX_MSGID_MAX - 1 ? v->arg.n : OUTBOX_MSGID_MAX - 1;
	memcpy(out, v->arg.p, n);
	out[n] = '\0';
	return n;
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
		view->producer = producer;
		view->pos = *pos - len;
		return 1;
	check_lapped:
		head = __atomic_load_n(&sh->head, __ATOMIC_ACQUIRE);
		return head + OUTBOX_REC_MAX - *pos > size ? -ESTALE : -EBADMSG;
	}
}
