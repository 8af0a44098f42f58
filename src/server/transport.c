/*
 * transport: the table of transports a listener can name. Session
 * processes look a client's transport up here when it is handed over.
 */
#include "server/transport.h"

const struct transport *
transport_get(unsigned id)
{
	static const struct transport *const all[TRANSPORT_COUNT] = {
	    [TRANSPORT_TCP] = &transport_tcp,
	    [TRANSPORT_WS] = &transport_ws,
	    [TRANSPORT_TLS] = &transport_tls,
	    [TRANSPORT_WSS] = &transport_wss,
	};

	return id < TRANSPORT_COUNT ? all[id] : NULL;
}
