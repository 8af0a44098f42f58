/*
 * web_assets: the web client's files (web/), built into parleyd. The
 * table is generated at build time by src/tools/embed.c into
 * $(BUILD)/gen/web_assets.c; nothing is read from disk at run time.
 */
#ifndef PARLEY_WEB_ASSETS_H
#define PARLEY_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path; /* "/index.html", "/app.js", ... */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

#endif
