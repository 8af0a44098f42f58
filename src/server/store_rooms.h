/*
 * store_rooms: registered rooms and server-wide bans in the store's
 * database (schema 2): the tables, the migration from schema 1, each
 * change as the supervisor sends it, and the whole state read back at
 * start. Store process only.
 */
#ifndef PARLEY_STORE_ROOMS_H
#define PARLEY_STORE_ROOMS_H

#include "server/channel.h"

struct store_db;

/* The tables schema 2 adds (CREATE statements, one string). */
extern const char store_rooms_schema[];

/* Applies one change (struct channel_store_room) to the database, in
 * the open transaction if there is one. Returns 0 or -EIO; an unknown op
 * is -EINVAL. */
int store_rooms_apply(struct store_db *db, const struct channel_store_room *m);

typedef void store_rooms_cb(void *arg, const struct channel_store_room *m);

/* Calls cb with every stored change that rebuilds the state: each room's
 * REGISTER then STATE, its OP_ADDs and BAN_ADDs, then every GLINE_ADD.
 * Returns 0 or -EIO. */
int store_rooms_each(struct store_db *db, store_rooms_cb *cb, void *arg);

#endif
