/*
 * supervisor_ops: the supervisor's operational side: the shared live
 * settings block and the sessions' stats pages (both mapped before any
 * fork), the service manager's notifications (READY, STATUS, STOPPING)
 * and the metrics listener's life cycle. Supervisor only; nothing here
 * ever blocks the loop.
 */
#include "lib/log.h"
#include "server/supervisor_int.h"

#include <errno.h>
#include <string.h>

#define SV_STATUS_EVERY_MS 1000

void
sv_ops_setup(struct supervisor *sv)
{
	int err;

	sv->start_time = time(NULL);
	if ((err = live_create(&sv->settings)) < 0 ||
	    (err = stats_create(&sv->stats, sv->nsessions)) < 0) {
		errno = -err;
		fatal("shared memory for settings and counters");
	}
	if (live_publish(&sv->settings, sv->cfg) < 0)
		log_warn("string settings too long to reach the sessions");
	notify_init(&sv->notify);
}

int
sv_ops_listen(struct supervisor *sv)
{
	return metrics_listen(sv);
}

static void
sv_ops_status(struct supervisor *sv)
{
	unsigned n = sv->reg.nclients;

	sv->status_clients = n;
	sv->status_sent_ms = loop_now_ms();
	notify_send(&sv->notify, "STATUS=%u %s connected", n,
		    SV_PLURAL(n, "client"));
}

void
sv_ops_ready(struct supervisor *sv)
{
	metrics_announce(sv);
	notify_send(&sv->notify, "READY=1\nSTATUS=0 clients connected");
	sv->status_sent_ms = loop_now_ms();
}

void
sv_ops_tick(struct supervisor *sv)
{
	long long now = loop_now_ms(), due = 0;
	int wait;

	if (sv->notify.fd >= 0 && !sv->stopping &&
	    sv->reg.nclients != sv->status_clients) {
		if (now - sv->status_sent_ms >= SV_STATUS_EVERY_MS)
			sv_ops_status(sv);
		else
			due = sv->status_sent_ms + SV_STATUS_EVERY_MS;
	}
	wait = metrics_tick(sv);
	if (wait >= 0 && (!due || now + wait < due))
		due = now + wait;
	sv->ops_due_ms = due;
}

void
sv_ops_stopping(struct supervisor *sv)
{
	notify_send(&sv->notify, "STOPPING=1\nSTATUS=shutting down");
	metrics_close(sv);
}

void
sv_ops_release(struct supervisor *sv, struct sv_session *s)
{
	stats_retire(&sv->stats, s->index);
}

void
sv_ops_teardown(struct supervisor *sv)
{
	metrics_close(sv);
	notify_close(&sv->notify);
	stats_destroy(&sv->stats);
	live_destroy(&sv->settings);
	config_text_free(sv->reload_text);
	config_text_free(sv->boot_text);
	sv->reload_text = sv->boot_text = NULL;
}
