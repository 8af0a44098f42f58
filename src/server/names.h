/*
 * names: the rules for nicknames and room names, and case folding. Pure;
 * used by the supervisor (the authority) and by sessions (early errors).
 */
#ifndef PARLEY_NAMES_H
#define PARLEY_NAMES_H

#include <stddef.h>

/* A nickname is 1-20 characters: ASCII letters, digits, '_' and '-',
 * starting with a letter. */
int names_nick_valid(const char *nick);

/* A room name is '#' and 1-32 ASCII letters, digits, '_', '-' or '.'. */
int names_room_valid(const char *room);

/* ASCII lower-case copy into out (n bytes, NUL-terminated). */
void names_fold(const char *in, char *out, size_t n);

#endif
