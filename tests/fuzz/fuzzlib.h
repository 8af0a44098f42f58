/*
 * fuzzlib: what the protocol fuzz targets (fuzz_proto_irc, fuzz_proto_plain)
 * share: the exact-size copies ASan checks reads against, the record a
 * writer could have stored, and checks of what a protocol emits. Runs in
 * the fuzzer process; every check is an assert.
 */
#ifndef PARLEY_FUZZLIB_H
#define PARLEY_FUZZLIB_H

#include "server/outbox.h"

#include <stddef.h>
#include <stdint.h>

/* Reads every byte of p (n bytes), so that ASan checks they are there. */
void fuzz_touch(const void *p, size_t n);

/* Asserts that line (len bytes) is valid UTF-8. */
void fuzz_check_utf8(const char *line, size_t len);

/* raw (raw_len bytes) through sanitize, into a malloc'd buffer of exactly
 * the sanitised length (*len; one byte when empty): ASan sees any read
 * past it. The caller frees it. */
char *fuzz_sanitized_copy(size_t (*sanitize)(const char *, size_t, char *),
			  const uint8_t *raw, size_t raw_len, size_t *len);

/* Decodes data (size bytes) as a record from an 8-aligned exact-size copy,
 * as outbox_read hands one over, into v (producer 1, position 0), its
 * strings made what writers store (no control bytes). Returns the copy
 * for the caller to free once done with v, or NULL if it does not
 * decode. */
void *fuzz_record_copy(const uint8_t *data, size_t size, struct outbox_view *v);

#endif
