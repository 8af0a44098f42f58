/*
 * supervisor_tls: the certificate and key, for the supervisor. Reads the
 * files at start and on SIGHUP, checks them by building a context (a pair
 * that does not load or match is refused and the current one stays), and
 * hands the new one to the workers in a memfd. Fork-model sessions are
 * forked with the current context. The supervisor itself never runs a
 * handshake.
 */
#include "lib/log.h"
#include "server/supervisor_int.h"
#include "server/tls_ctx.h"

#include <errno.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Reads and checks the configured pair; returns the context or NULL with
 * why filled. pem keeps the bytes for the workers. */
static SSL_CTX *
sv_tls_load(const struct config *cfg, struct tls_pem *pem, char *why, size_t n)
{
	char detail[256];
	SSL_CTX *ctx;

	if (tls_pem_read(pem, cfg->tls_cert, cfg->tls_key, why, n) < 0)
		return NULL;
	ctx = tls_ctx_build(pem, detail, sizeof(detail));
	if (!ctx) {
		snprintf(why, n, "%s (certificate %s, key %s)", detail,
			 cfg->tls_cert, cfg->tls_key);
		tls_pem_free(pem);
	}
	return ctx;
}

int
sv_tls_start(struct supervisor *sv)
{
	struct tls_pem pem;
	char why[512], what[192];
	SSL_CTX *ctx;

	if (!sv->cfg->tls_cert)
		return 0;
	tls_init();
	ctx = sv_tls_load(sv->cfg, &pem, why, sizeof(why));
	if (!ctx) {
		log_warn("TLS: %s", why);
		return -1;
	}
	tls_pem_free(&pem);
	tls_ctx_install(ctx, 1);
	tls_ctx_describe(ctx, what, sizeof(what));
	log_info("TLS certificate %s (%s)", what, sv->cfg->tls_cert);
	return 0;
}

/* Sends the new context to every live worker. A worker whose channel is
 * stuck is ended (its clients see "connection lost"); it is respawned with
 * the new context. */
static void
sv_tls_send(struct supervisor *sv, const struct tls_pem *pem, int memfd)
{
	struct channel_tls_context m = {
	    .generation = pem->generation,
	    .cert_len = (uint32_t)pem->cert_len,
	    .key_len = (uint32_t)pem->key_len,
	    .ticket_len = TLS_TICKET_KEYS_LEN,
	};

	for (unsigned i = 0; sv->cfg->workers > 0 && i < sv->nsessions; i++) {
		struct sv_session *s = &sv->sessions[i];
		if (s->pid <= 0 || !s->chan_open || s->reaped)
			continue;
		int fd = dup(memfd);
		if (fd < 0 ||
		    channel_send(&s->chan, CHANNEL_TLS_CONTEXT, &m, sizeof(m),
				 fd, SV_CHANNEL_QUEUE) < 0) {
			if (fd < 0)
				log_warn("TLS: cannot pass the certificate to "
					 "worker %d: %s",
					 (int)s->pid, strerror(errno));
			sv_session_bad(sv, s, "channel full");
		}
	}
}

void
sv_tls_reload(struct supervisor *sv)
{
	struct tls_pem pem;
	char why[512], what[192];
	SSL_CTX *ctx;
	int memfd;

	if (!sv->cfg->tls_cert)
		return;
	tls_ctx_describe(tls_ctx_current(), what, sizeof(what));
	ctx = sv_tls_load(sv->cfg, &pem, why, sizeof(why));
	if (!ctx) {
		log_warn("SIGHUP: TLS certificate not reloaded: %s; keeping "
			 "%s",
			 why, what);
		return;
	}
	pem.generation = tls_ctx_generation() + 1;
	memfd = tls_pem_to_memfd(&pem);
	if (memfd < 0) {
		log_warn("SIGHUP: TLS certificate not reloaded: memfd: %s; "
			 "keeping %s",
			 strerror(-memfd), what);
		SSL_CTX_free(ctx);
		tls_pem_free(&pem);
		return;
	}
	tls_ctx_install(ctx, pem.generation);
	sv_tls_send(sv, &pem, memfd);
	close(memfd);
	tls_pem_free(&pem);
	tls_ctx_describe(ctx, what, sizeof(what));
	log_info("SIGHUP: TLS certificate reloaded: %s; new connections use "
		 "it",
		 what);
}
