/*
 * store_exec: both halves of the store's exec. The supervisor's child
 * (store_exec) moves what the store needs to fds 3-8, closes the rest and
 * execs; the new process (store_exec_main, parleyd's main for
 * `--store-process`) checks what it was given, maps the shared memory
 * again and runs store_main. Invariant: a store process holds no page the
 * supervisor had, only the shared mappings it maps itself.
 */
#include "server/store_exec.h"

#include "lib/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the store finds its fds. */
enum {
	STORE_FD_CHANNEL = 3,
	STORE_FD_START, /* the sealed memfd: struct store_exec_blob */
	STORE_FD_SHM,	/* the rings, the reader table, the timeline */
	STORE_FD_STATS, /* struct store_stats_sh */
	STORE_FD_WAKE,
	STORE_FD_FLOW,
	STORE_FD_END
};

#define STORE_EXEC_MAGIC 0x50535458u /* "PSTX" */
#define STORE_EXEC_VERSION                                                     \
	((uint32_t)CHANNEL_VERSION << 16 | (uint32_t)OUTBOX_VERSION)

/* What the store cannot learn from its fds; nprod cursors follow. */
struct store_exec_blob {
	uint32_t magic;
	uint32_t version; /* both wire formats: one binary on both sides */
	uint32_t nprod, nreaders;
	uint64_t ring0_size, ring_size, tl_cap;
	uint32_t producer, reader;
	uint64_t tl_pos;
	int32_t topics;
	uint32_t config_size; /* sizeof(struct config): same build */
	struct channel_store_settings settings;
};

extern char **environ;

/* ---- settings ------------------------------------------------------------ */

void
store_settings_of(const struct config *cfg, struct channel_store_settings *m)
{
	memset(m, 0, sizeof(*m));
	m->db_batch = cfg->db_batch;
	m->db_delay_ms = cfg->db_delay_ms;
	m->history_days = cfg->history_days;
	m->store_private = cfg->store_private;
	m->stall_timeout_ms = cfg->stall_timeout_ms;
	m->verbose = cfg->verbose;
}

void
store_settings_apply(struct config *cfg, const struct channel_store_settings *m)
{
	/* The supervisor checked them against the options' ranges. */
	cfg->db_batch = m->db_batch > 0 ? m->db_batch : 1;
	cfg->db_delay_ms = m->db_delay_ms >= 0 ? m->db_delay_ms : 0;
	cfg->history_days = m->history_days >= 0 ? m->history_days : 0;
	cfg->store_private = m->store_private != 0;
	cfg->stall_timeout_ms =
	    m->stall_timeout_ms > 0 ? m->stall_timeout_ms : 1;
	cfg->verbose = m->verbose != 0;
}

static size_t
store_stats_bytes(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (sizeof(struct store_stats_sh) + page - 1) / page * page;
}

/* ---- the supervisor's child ---------------------------------------------- */

int
store_exec_self(void)
{
	/* /proc/self/exe is the running binary's inode even once its path
	 * names another (or none): the store always runs the same build as
	 * the supervisor, with the same wire formats. */
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The sealed memfd with the blob and the cursors. An fd or -errno. */
static int
store_exec_blob_fd(const struct store_exec_args *a)
{
	const struct outbox_shm *shm = a->shm;
	struct store_exec_blob b = {
	    .magic = STORE_EXEC_MAGIC,
	    .version = STORE_EXEC_VERSION,
	    .nprod = shm->nprod,
	    .nreaders = shm->nreaders,
	    .ring0_size = shm->ring0_size,
	    .ring_size = shm->ring_size,
	    .tl_cap = shm->tl->cap,
	    .producer = a->producer,
	    .reader = a->reader,
	    .tl_pos = a->tl_pos,
	    .topics = a->topics,
	    .config_size = (uint32_t)sizeof(struct config),
	};
	size_t curs = (size_t)shm->nprod * sizeof(uint64_t);
	int fd, err;

	store_settings_of(a->cfg, &b.settings);
	fd =
	    memfd_create("parley-store-start", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, &b, sizeof(b), 0) != (ssize_t)sizeof(b) ||
	    pwrite(fd, a->cursors, curs, sizeof(b)) != (ssize_t)curs ||
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
		0) {
		err = errno ? -errno : -EIO;
		close(fd);
		return err;
	}
	return fd;
}

int
store_exec(const struct store_exec_args *a)
{
	int src[STORE_FD_END], tmp[STORE_FD_END], exe;
	char *argv[] = {"parleyd", STORE_EXEC_ARG, (char *)a->cfg->db_path,
			NULL};

	src[STORE_FD_CHANNEL] = a->channel_fd;
	src[STORE_FD_START] = store_exec_blob_fd(a);
	src[STORE_FD_SHM] = a->shm->fd;
	src[STORE_FD_STATS] = a->stats_fd;
	src[STORE_FD_WAKE] = a->wake_fd;
	src[STORE_FD_FLOW] = a->flow_fd;
	if (src[STORE_FD_START] < 0)
		return src[STORE_FD_START];
	/* Out of the way first (above every target, the binary's fd too),
	 * then into place: dup2 clears close-on-exec on the targets only. */
	if ((exe = fcntl(a->exe_fd, F_DUPFD_CLOEXEC, STORE_FD_END)) < 0)
		return -errno;
	for (int i = STORE_FD_CHANNEL; i < STORE_FD_END; i++)
		if ((tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, STORE_FD_END)) < 0)
			return -errno;
	for (int i = STORE_FD_CHANNEL; i < STORE_FD_END; i++)
		if (dup2(tmp[i], i) < 0)
			return -errno;
	/* Every other fd goes at the exec (the binary's fd is needed for
	 * it): listeners, clients, the TLS files' and everyone's channels. */
	if (close_range(STORE_FD_END, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		return -errno;
	fexecve(exe, argv, environ);
	return -errno;
}

/* ---- the store's side ---------------------------------------------------- */

/* Says why to the supervisor (it logs it) and exits 1. */
static void __attribute__((noreturn)) store_exec_fail(const char *what, int err)
{
	struct channel_store_text t;
	struct channel ch;

	memset(&t, 0, sizeof(t));
	snprintf(t.text, sizeof(t.text), "%s: %s", what, strerror(err));
	log_warn("%s", t.text);
	channel_init(&ch, STORE_FD_CHANNEL);
	if (channel_send(&ch, CHANNEL_STORE_FAILED, &t, sizeof(t), -1,
			 sizeof(t)) == 0)
		(void)channel_flush(&ch);
	_exit(1);
}

/* Reads and checks the blob and its cursors (*cursors: malloc'd). */
static void
store_exec_read_blob(struct store_exec_blob *b, uint64_t **cursors)
{
	struct stat sb;
	size_t curs;

	if (fstat(STORE_FD_START, &sb) < 0 || sb.st_size < (off_t)sizeof(*b) ||
	    pread(STORE_FD_START, b, sizeof(*b), 0) != (ssize_t)sizeof(*b) ||
	    b->magic != STORE_EXEC_MAGIC) {
		fprintf(stderr,
			"parleyd: %s is for the store process that "
			"parleyd starts itself\n",
			STORE_EXEC_ARG);
		_exit(2);
	}
	if (b->version != STORE_EXEC_VERSION ||
	    b->config_size != sizeof(struct config))
		store_exec_fail("the store's binary is another build than the "
				"supervisor's",
				EPROTO);
	curs = (size_t)b->nprod * sizeof(uint64_t);
	if ((uint64_t)sb.st_size != sizeof(*b) + curs ||
	    !(*cursors = malloc(curs ? curs : 1)) ||
	    pread(STORE_FD_START, *cursors, curs, sizeof(*b)) != (ssize_t)curs)
		store_exec_fail("cannot read what the supervisor passed",
				EINVAL);
	close(STORE_FD_START);
}

void
store_exec_main(int argc, char **argv)
{
	static struct outbox_shm shm;
	static struct config cfg;
	struct store_exec_blob b = {0};
	struct store_start start;
	struct store_stats_sh *stats;
	uint64_t *cursors = NULL;
	int err;

	log_init("store", LOG_INFO);
	store_exec_read_blob(&b, &cursors);
	if (argc != 3)
		store_exec_fail("no database path", EINVAL);
	if ((err = outbox_shm_attach(&shm, STORE_FD_SHM, b.nprod, b.nreaders,
				     b.ring0_size, b.ring_size, b.tl_cap)) < 0)
		store_exec_fail("cannot map the shared memory", -err);
	stats = mmap(NULL, store_stats_bytes(), PROT_READ | PROT_WRITE,
		     MAP_SHARED, STORE_FD_STATS, 0);
	if (stats == MAP_FAILED)
		store_exec_fail("cannot map its counters", errno);
	close(STORE_FD_STATS);
	/* Its fd would only keep the rings alive after the supervisor. */
	close(shm.fd);
	shm.fd = -1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = argv[2];
	store_settings_apply(&cfg, &b.settings);
	log_set_level(cfg.verbose ? LOG_DEBUG : LOG_INFO);
	start = (struct store_start){
	    .cfg = &cfg,
	    .shm = &shm,
	    .producer = b.producer,
	    .channel_fd = STORE_FD_CHANNEL,
	    .wake_fd = STORE_FD_WAKE,
	    .reader = b.reader,
	    .flow_fd = STORE_FD_FLOW,
	    .tl_pos = b.tl_pos,
	    .cursors = cursors,
	    .stats = stats,
	    .topics = b.topics,
	};
	if (b.producer >= b.nprod || b.reader >= b.nreaders)
		store_exec_fail("bad producer or reader", EINVAL);
	store_main(&start);
}
