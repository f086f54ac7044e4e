/*
 * Reads a requests file (the flat format of requests.rs) into fastiam_request structs,
 * each with the answer the Rust API gave for it. Used by the C ABI tests and by bench.c.
 *
 * Everything lives in one fiam_requests: the file's bytes (unescaped in place; every string
 * a request points to is inside them) and the arrays of hops, context entries and strings
 * the requests point to. fiam_requests_free releases all of it.
 */
#ifndef FIAM_REQUESTS_H
#define FIAM_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "fastiam.h"

/* The Rust API's answer for one hop. */
typedef struct fiam_expected_hop {
  const char *decision; /* "Allow", ... */
  const char *reason;   /* "Allowed:Identity", ... */
  const uint32_t *matched;
  size_t matched_len;
  const uint32_t *missing;
  size_t missing_len;
} fiam_expected_hop;

/* One request and its expected answer. */
typedef struct fiam_case {
  size_t program; /* index into fiam_requests.programs */
  fastiam_request request;
  const char *decision;
  const char *reason;
  size_t denied_at; /* FASTIAM_NO_HOP when allowed */
  const fiam_expected_hop *hops;
  size_t hops_len;
} fiam_case;

typedef struct fiam_requests {
  fiam_case *cases;
  size_t cases_len;
  /* Program paths as written in the file (relative paths are relative to the file's
     directory: see fiam_requests_program_path). */
  const char **programs;
  size_t programs_len;
  /* Storage. */
  char *text;
  char *dir;
  char **fields;
  fastiam_hop *hops;
  fastiam_context_entry *entries;
  fastiam_str *strs;
  fastiam_credentials *credentials;
  fiam_expected_hop *expected_hops;
  uint32_t *ids;
} fiam_requests;

/* Reads `path`. Returns 0 on success; else prints why to stderr and returns -1. */
int fiam_requests_read(const char *path, fiam_requests *out);

/* The path of program `i`, resolved against the file's directory, in `buf`. */
const char *fiam_requests_program_path(const fiam_requests *r, size_t i, char *buf,
                                       size_t len);

void fiam_requests_free(fiam_requests *r);

/* Compares what fastiam_evaluate wrote with the expectation; returns 0 when equal, else
   prints the first difference (prefixed with `label`) to stderr and returns -1. The
   outcome's arrays must have been given. */
int fiam_check_outcome(const fiam_case *c, const fastiam_outcome *out, const char *label);

#endif /* FIAM_REQUESTS_H */
