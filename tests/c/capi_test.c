/*
 * The C ABI from C: run by tests/integration/capi/c.rs (and under valgrind by .ci/run).
 *
 *   capi_test DIR [THREADS ROUNDS]
 *
 * DIR holds what the Rust test prepared: conformance.requests (the conformance corpus,
 * one program file per policy set) and workload.requests (the standard workload and its
 * program), each request with the Rust API's answer. Sections:
 *   conformance  every case through the ABI, programs memory-mapped, then from bytes;
 *   threads      THREADS threads sharing one program, ROUNDS passes over the workload;
 *   errors       NULL arguments, truncated and garbage program files, bad UTF-8, bad
 *                fields, small output arrays, out-parameters untouched on failure.
 * Prints one line per failure and "N passed, M failed"; exits 1 on any failure.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastiam.h"
#include "requests.h"

static int passed, failed;

#define CHECK(cond, ...)                      \
  do {                                        \
    if (cond) {                               \
      passed++;                               \
    } else {                                  \
      failed++;                               \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);           \
      fputc('\n', stderr);                    \
    }                                         \
  } while (0)

static fastiam_str S(const char *s) {
  fastiam_str out = {s, strlen(s)};
  return out;
}

static const char *last_error(void) {
  static char buf[1024];
  fastiam_error_message(buf, sizeof buf);
  return buf;
}

/* Output arrays large enough for any request of a program. */
typedef struct buffers {
  fastiam_hop_outcome *hops;
  uint32_t *matched, *missing;
  size_t hops_cap, matched_cap, missing_cap;
} buffers;

static void buffers_init(buffers *b, const fastiam_program *program, size_t max_hops) {
  fastiam_program_info info;
  fastiam_program_get_info(program, &info);
  b->hops_cap = max_hops;
  b->matched_cap = max_hops * (info.statements + 1);
  b->missing_cap = max_hops * (info.keys + 1);
  b->hops = calloc(b->hops_cap, sizeof *b->hops);
  b->matched = calloc(b->matched_cap, sizeof *b->matched);
  b->missing = calloc(b->missing_cap, sizeof *b->missing);
}

static void buffers_free(buffers *b) {
  free(b->hops);
  free(b->matched);
  free(b->missing);
}

static fastiam_outcome outcome_of(const buffers *b) {
  fastiam_outcome out;
  memset(&out, 0, sizeof out);
  out.hops = b->hops;
  out.hops_capacity = b->hops_cap;
  out.matched = b->matched;
  out.matched_capacity = b->matched_cap;
  out.missing = b->missing;
  out.missing_capacity = b->missing_cap;
  return out;
}

static size_t max_hops(const fiam_requests *r) {
  size_t m = 1;
  for (size_t i = 0; i < r->cases_len; i++)
    if (r->cases[i].request.hops_len > m) m = r->cases[i].request.hops_len;
  return m;
}

static unsigned char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1); /* malloc: 8-byte aligned */
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* ---------------------------------------------------------------------------------- */

/* Every case, each program opened once; `from_bytes` loads programs from memory instead
   of mapping them. One scratch serves every program (it resizes itself). */
static void conformance(const char *dir, int from_bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/conformance.requests", dir);
  fiam_requests r;
  if (fiam_requests_read(path, &r) != 0) {
    CHECK(0, "cannot read %s", path);
    return;
  }
  fastiam_program **programs = calloc(r.programs_len, sizeof *programs);
  unsigned char **bytes = calloc(r.programs_len, sizeof *bytes);
  for (size_t i = 0; i < r.programs_len; i++) {
    fiam_requests_program_path(&r, i, path, sizeof path);
    fastiam_result rc;
    if (from_bytes) {
      size_t len;
      bytes[i] = read_all(path, &len);
      rc = fastiam_program_from_bytes(bytes[i], len, &programs[i]);
    } else {
      rc = fastiam_program_open(path, strlen(path), &programs[i]);
    }
    CHECK(rc == FASTIAM_RESULT_OK, "open %s: %s", path, last_error());
  }
  fastiam_scratch *scratch = NULL;
  CHECK(fastiam_scratch_new(programs[0], &scratch) == FASTIAM_RESULT_OK, "scratch");
  /* One builder for every case and program: each request is built against its program,
     then evaluated through the builder as well. */
  fastiam_builder *builder = NULL;
  CHECK(fastiam_builder_new(&builder) == FASTIAM_RESULT_OK, "builder");
  int agree = 0, agree_built = 0;
  for (size_t i = 0; i < r.cases_len; i++) {
    const fiam_case *c = &r.cases[i];
    buffers b;
    buffers_init(&b, programs[c->program], c->request.hops_len);
    fastiam_outcome out = outcome_of(&b);
    fastiam_result rc = fastiam_evaluate(programs[c->program], scratch, &c->request, &out);
    char label[64];
    snprintf(label, sizeof label, "%s case %zu", from_bytes ? "bytes" : "mapped", i);
    if (rc != FASTIAM_RESULT_OK) {
      CHECK(0, "%s: %s: %s", label, fastiam_result_name(rc), last_error());
    } else {
      int same = fiam_check_outcome(c, &out, label) == 0;
      CHECK(same, "%s differs from the Rust API", label);
      agree += same;
    }
    rc = fastiam_builder_build(builder, programs[c->program], &c->request);
    CHECK(rc == FASTIAM_RESULT_OK, "%s: build: %s", label, last_error());
    for (int again = 0; again < 2 && rc == FASTIAM_RESULT_OK; again++) {
      out = outcome_of(&b);
      rc = fastiam_evaluate_builder(programs[c->program], scratch, builder, &out);
      CHECK(rc == FASTIAM_RESULT_OK, "%s: evaluate_builder: %s", label, last_error());
      int same = rc == FASTIAM_RESULT_OK && fiam_check_outcome(c, &out, label) == 0;
      CHECK(same, "%s through the builder differs from the Rust API", label);
      agree_built += same && again;
    }
    buffers_free(&b);
  }
  printf("conformance (%s): %d of %zu cases agree with the Rust API, %d through the "
         "builder\n",
         from_bytes ? "from bytes" : "memory-mapped", agree, r.cases_len, agree_built);
  fastiam_builder_free(builder);
  fastiam_scratch_free(scratch);
  for (size_t i = 0; i < r.programs_len; i++) {
    fastiam_program_free(programs[i]);
    free(bytes[i]); /* after the program: it reads the bytes in place */
  }
  free(programs);
  free(bytes);
  fiam_requests_free(&r);
}

/* ---------------------------------------------------------------------------------- */

typedef struct worker {
  const fastiam_program *program;
  const fiam_requests *r;
  int rounds;
  int offset;
  long evaluated, wrong;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  fastiam_scratch *scratch = NULL;
  if (fastiam_scratch_new(w->program, &scratch) != FASTIAM_RESULT_OK) {
    w->wrong++;
    return NULL;
  }
  fastiam_builder *builder = NULL;
  if (fastiam_builder_new(&builder) != FASTIAM_RESULT_OK) w->wrong++;
  buffers b;
  buffers_init(&b, w->program, max_hops(w->r));
  for (int round = 0; round < w->rounds; round++) {
    for (size_t j = 0; j < w->r->cases_len; j++) {
      /* Each thread starts at a different request, so threads evaluate different
         requests at the same moment. */
      const fiam_case *c = &w->r->cases[(j + (size_t)w->offset * 7) % w->r->cases_len];
      fastiam_outcome out = outcome_of(&b);
      fastiam_result rc;
      if (round % 2 == 0) {
        rc = fastiam_evaluate(w->program, scratch, &c->request, &out);
      } else {
        /* Odd rounds go through the thread's builder. */
        rc = fastiam_builder_build(builder, w->program, &c->request);
        if (rc == FASTIAM_RESULT_OK)
          rc = fastiam_evaluate_builder(w->program, scratch, builder, &out);
      }
      if (rc != FASTIAM_RESULT_OK || fiam_check_outcome(c, &out, "thread") != 0) w->wrong++;
      w->evaluated++;
    }
  }
  fastiam_builder_free(builder);
  buffers_free(&b);
  fastiam_scratch_free(scratch);
  return NULL;
}

static void threads(const char *dir, int nthreads, int rounds) {
  char path[4096];
  snprintf(path, sizeof path, "%s/workload.requests", dir);
  fiam_requests r;
  if (fiam_requests_read(path, &r) != 0) {
    CHECK(0, "cannot read %s", path);
    return;
  }
  fiam_requests_program_path(&r, 0, path, sizeof path);
  fastiam_program *program = NULL;
  CHECK(fastiam_program_open(path, strlen(path), &program) == FASTIAM_RESULT_OK, "open %s",
        path);
  pthread_t *ids = calloc((size_t)nthreads, sizeof *ids);
  worker *workers = calloc((size_t)nthreads, sizeof *workers);
  for (int t = 0; t < nthreads; t++) {
    workers[t] = (worker){program, &r, rounds, t, 0, 0};
    CHECK(pthread_create(&ids[t], NULL, work, &workers[t]) == 0, "pthread_create");
  }
  long evaluated = 0, wrong = 0;
  for (int t = 0; t < nthreads; t++) {
    pthread_join(ids[t], NULL);
    evaluated += workers[t].evaluated;
    wrong += workers[t].wrong;
  }
  CHECK(wrong == 0, "%ld of %ld evaluations on shared program differ", wrong, evaluated);
  CHECK(evaluated == (long)nthreads * rounds * (long)r.cases_len, "evaluations counted");
  printf("threads: %d threads x %d rounds x %zu requests on one program: %ld evaluations, "
         "%ld wrong\n",
         nthreads, rounds, r.cases_len, evaluated, wrong);
  free(ids);
  free(workers);
  fastiam_program_free(program);
  fiam_requests_free(&r);
}

/* ---------------------------------------------------------------------------------- */

static int contains(const char *haystack, const char *needle) {
  return strstr(haystack, needle) != NULL;
}

/* Evaluates `req` with an outcome full of sentinels; checks the code, that the message
   names `field`, and that the outcome was left untouched. */
/* The builder `expect_error` also builds each bad request in. */
static fastiam_builder *error_builder;

static void expect_error(const fastiam_program *program, fastiam_scratch *scratch,
                         const fastiam_request *req, fastiam_result want, const char *field) {
  fastiam_hop_outcome hops[4];
  uint32_t ids[64];
  memset(hops, 0xAB, sizeof hops);
  memset(ids, 0xAB, sizeof ids);
  fastiam_outcome out;
  memset(&out, 0xAB, sizeof out);
  out.hops = hops;
  out.hops_capacity = 4;
  out.matched = ids;
  out.matched_capacity = 32;
  out.missing = ids + 32;
  out.missing_capacity = 32;
  fastiam_outcome before = out;
  fastiam_result rc = fastiam_evaluate(program, scratch, req, &out);
  const char *msg = last_error();
  CHECK(rc == want, "%s: got %s (%s), expected %s", field, fastiam_result_name(rc), msg,
        fastiam_result_name(want));
  CHECK(contains(msg, field), "the message names `%s`: %s", field, msg);
  CHECK(memcmp(&out, &before, sizeof out) == 0, "%s: outcome written on failure", field);
  int untouched = 1;
  for (size_t i = 0; i < sizeof hops; i++) untouched &= ((unsigned char *)hops)[i] == 0xAB;
  for (size_t i = 0; i < sizeof ids; i++) untouched &= ((unsigned char *)ids)[i] == 0xAB;
  CHECK(untouched, "%s: output arrays written on failure", field);
  /* The builder reports the same error, and then holds no request. */
  rc = fastiam_builder_build(error_builder, program, req);
  msg = last_error();
  CHECK(rc == want, "build %s: got %s (%s), expected %s", field, fastiam_result_name(rc), msg,
        fastiam_result_name(want));
  CHECK(contains(msg, field), "build: the message names `%s`: %s", field, msg);
  rc = fastiam_evaluate_builder(program, scratch, error_builder, &out);
  CHECK(rc == FASTIAM_RESULT_INVALID_ARGUMENT && contains(last_error(), "holds no request"),
        "%s: evaluate_builder after a failed build: %s", field, last_error());
  CHECK(memcmp(&out, &before, sizeof out) == 0, "%s: outcome written by evaluate_builder",
        field);
}

static void errors(const char *dir) {
  char path[4096], truncated[4096];
  snprintf(path, sizeof path, "%s/workload.requests", dir);
  fiam_requests r;
  if (fiam_requests_read(path, &r) != 0) {
    CHECK(0, "cannot read %s", path);
    return;
  }
  fiam_requests_program_path(&r, 0, path, sizeof path);
  fastiam_program *program = NULL, *sentinel = (fastiam_program *)&r;
  fastiam_scratch *scratch = NULL;
  fastiam_program_info info;
  memset(&info, 0, sizeof info);

  /* NULL arguments: a code and a message naming the argument; out-params untouched. */
  fastiam_program *out = sentinel;
  CHECK(fastiam_program_open(NULL, 3, &out) == FASTIAM_RESULT_NULL_ARGUMENT, "open NULL path");
  CHECK(contains(last_error(), "path"), "message names path: %s", last_error());
  CHECK(out == sentinel, "out untouched");
  CHECK(fastiam_program_open(path, strlen(path), NULL) == FASTIAM_RESULT_NULL_ARGUMENT,
        "open NULL out");
  CHECK(fastiam_program_from_bytes(NULL, 8, &out) == FASTIAM_RESULT_NULL_ARGUMENT,
        "from_bytes NULL");
  CHECK(fastiam_scratch_new(NULL, &scratch) == FASTIAM_RESULT_NULL_ARGUMENT, "scratch NULL");
  CHECK(fastiam_program_get_info(NULL, &info) == FASTIAM_RESULT_NULL_ARGUMENT, "info NULL");
  CHECK(fastiam_evaluate(NULL, NULL, NULL, NULL) == FASTIAM_RESULT_NULL_ARGUMENT,
        "evaluate NULL");
  CHECK(contains(last_error(), "program"), "message names program: %s", last_error());
  fastiam_program_free(NULL);
  fastiam_scratch_free(NULL);
  fastiam_builder_free(NULL);
  CHECK(fastiam_builder_new(NULL) == FASTIAM_RESULT_NULL_ARGUMENT, "builder_new NULL");
  CHECK(fastiam_builder_new(&error_builder) == FASTIAM_RESULT_OK, "builder");
  CHECK(fastiam_builder_build(NULL, NULL, NULL) == FASTIAM_RESULT_NULL_ARGUMENT,
        "builder_build NULL");
  CHECK(contains(last_error(), "builder"), "message names builder: %s", last_error());
  CHECK(fastiam_evaluate_builder(NULL, NULL, NULL, NULL) == FASTIAM_RESULT_NULL_ARGUMENT,
        "evaluate_builder NULL");

  /* Files that are not programs. */
  const char *missing = "/nonexistent/fastiam/program.fiam";
  CHECK(fastiam_program_open(missing, strlen(missing), &out) == FASTIAM_RESULT_IO, "missing");
  CHECK(contains(last_error(), missing), "message names the file: %s", last_error());
  CHECK(out == sentinel, "out untouched");
  size_t len = 0;
  unsigned char *bytes = read_all(path, &len);
  CHECK(bytes != NULL && len > 64, "read the workload program");
  size_t cuts[] = {0, 7, 23, 24, 100, len / 3, len / 2};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    snprintf(truncated, sizeof truncated, "%s/truncated-%zu.fiam", dir, cuts[i]);
    FILE *f = fopen(truncated, "wb");
    fwrite(bytes, 1, cuts[i], f);
    fclose(f);
    fastiam_result rc = fastiam_program_open(truncated, strlen(truncated), &out);
    CHECK(rc == FASTIAM_RESULT_INVALID_PROGRAM, "truncated to %zu bytes: %s", cuts[i],
          fastiam_result_name(rc));
    CHECK(out == sentinel, "out untouched");
    rc = fastiam_program_from_bytes(bytes, cuts[i], &out);
    CHECK(rc == FASTIAM_RESULT_INVALID_PROGRAM, "bytes truncated to %zu: %s", cuts[i],
          fastiam_result_name(rc));
    remove(truncated);
  }
  CHECK(contains(last_error(), "truncated") || contains(last_error(), "section") ||
            contains(last_error(), "checksum"),
        "message says why: %s", last_error());
  /* Flipped bytes after the header: refused by the checksum, through both doors. */
  unsigned char *copy = malloc(len);
  for (size_t i = 24; i < len; i += len / 97 + 1) {
    memcpy(copy, bytes, len);
    copy[i] ^= 0x5A;
    fastiam_program *p = NULL;
    fastiam_result rc = fastiam_program_from_bytes(copy, len, &p);
    CHECK(rc == FASTIAM_RESULT_INVALID_PROGRAM && p == NULL, "flipped byte %zu: %s", i,
          fastiam_result_name(rc));
    CHECK(contains(last_error(), "checksum mismatch"), "flipped byte %zu: %s", i, last_error());
  }
  snprintf(truncated, sizeof truncated, "%s/flipped.fiam", dir);
  FILE *flipped = fopen(truncated, "wb");
  fwrite(copy, 1, len, flipped);
  fclose(flipped);
  CHECK(fastiam_program_open(truncated, strlen(truncated), &out) ==
            FASTIAM_RESULT_INVALID_PROGRAM,
        "flipped file");
  CHECK(contains(last_error(), "checksum mismatch"), "flipped file: %s", last_error());
  CHECK(out == sentinel, "out untouched");
  remove(truncated);
  memset(copy, 'x', len);
  CHECK(fastiam_program_from_bytes(copy, len, &out) == FASTIAM_RESULT_INVALID_PROGRAM,
        "garbage");
  CHECK(contains(last_error(), "not a fastiam program"), "garbage message: %s", last_error());
  /* Misaligned bytes are refused, not read. */
  unsigned char *shifted = malloc(len + 1);
  memcpy(shifted + 1, bytes, len);
  CHECK(fastiam_program_from_bytes(shifted + 1, len, &out) == FASTIAM_RESULT_INVALID_PROGRAM,
        "misaligned");
  CHECK(contains(last_error(), "aligned"), "misaligned message: %s", last_error());
  free(shifted);
  free(copy);

  /* A good program, and requests gone wrong one field at a time. */
  CHECK(fastiam_program_from_bytes(bytes, len, &program) == FASTIAM_RESULT_OK, "load: %s",
        last_error());
  CHECK(fastiam_scratch_new(program, &scratch) == FASTIAM_RESULT_OK, "scratch");
  CHECK(fastiam_program_get_info(program, &info) == FASTIAM_RESULT_OK && info.statements > 0,
        "info");
  fastiam_str values[2] = {S("ingest"), S("x")};
  fastiam_context_entry ctx[2] = {{S("aws:PrincipalTag/Team"), values, 1, 0},
                                  {S("aws:SourceIp"), values + 1, 1, 0}};
  fastiam_hop hops[2];
  memset(hops, 0, sizeof hops);
  hops[0].action = S("s3:GetObject");
  hops[0].resource = S("arn:aws:s3:::data-raw/alice/x");
  hops[1].via = S("s3.amazonaws.com");
  hops[1].action = S("kms:Decrypt");
  hops[1].resource = S("arn:aws:kms:us-east-1:111122223333:key/k");
  fastiam_request good;
  memset(&good, 0, sizeof good);
  good.dialect = FASTIAM_DIALECT_AWS;
  good.principal.arn = S("arn:aws:sts::111122223333:assumed-role/DataRole/alice");
  good.context = ctx;
  good.context_len = 2;
  good.hops = hops;
  good.hops_len = 2;
  buffers b;
  buffers_init(&b, program, 2);
  fastiam_outcome ok = outcome_of(&b);
  CHECK(fastiam_evaluate(program, scratch, &good, &ok) == FASTIAM_RESULT_OK, "good: %s",
        last_error());

  const char bad[] = {'s', '3', ':', (char)0xC3, '(', 0};
  fastiam_request req = good;
  req.principal.arn = S(bad);
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_UTF8, "request.principal.arn");
  req = good;
  fastiam_hop bad_hops[2] = {hops[0], hops[1]};
  req.hops = bad_hops;
  bad_hops[1].action = S(bad);
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_UTF8, "request.hops[1].action");
  bad_hops[1] = hops[1];
  bad_hops[1].via = S(bad);
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_UTF8, "request.hops[1].via");
  bad_hops[1] = hops[1];
  bad_hops[0].via = S("s3.amazonaws.com");
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT, "request.hops[0].via");
  bad_hops[0] = hops[0];
  bad_hops[1].via.data = NULL;
  bad_hops[1].via.len = 0;
  expect_error(program, scratch, &req, FASTIAM_RESULT_NULL_ARGUMENT, "request.hops[1].via");
  bad_hops[1] = hops[1];
  bad_hops[0].action.data = NULL;
  expect_error(program, scratch, &req, FASTIAM_RESULT_NULL_ARGUMENT, "request.hops[0].action");
  bad_hops[0] = hops[0];
  bad_hops[1].has_resource_policy = FASTIAM_FLAG_YES;
  bad_hops[1].resource_policy = info.resource_policies;
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT,
               "request.hops[1].resource_policy");
  bad_hops[1] = hops[1];
  bad_hops[1].requires_no_permission = 3;
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT,
               "request.hops[1].requires_no_permission");

  fastiam_context_entry bad_ctx[2] = {ctx[0], ctx[1]};
  req = good;
  req.context = bad_ctx;
  bad_ctx[1].key = S(bad);
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_UTF8, "request.context[1].key");
  fastiam_str bad_values[1] = {S(bad)};
  bad_ctx[1] = ctx[1];
  bad_ctx[1].values = bad_values;
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_UTF8,
               "request.context[1].values[0]");
  bad_ctx[1] = ctx[1];
  bad_ctx[1].key = S("AWS:PRINCIPALTAG/team");
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT, "request.context[1].key");
  bad_ctx[1] = ctx[1];
  bad_ctx[1].values = NULL;
  expect_error(program, scratch, &req, FASTIAM_RESULT_NULL_ARGUMENT,
               "request.context[1].values");
  bad_ctx[1] = ctx[1];
  bad_ctx[1].values = values;
  bad_ctx[1].values_len = 2;
  bad_ctx[1].multi = FASTIAM_FLAG_NO;
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT,
               "request.context[1].values_len");

  req = good;
  req.dialect = 0;
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT, "request.dialect");
  req = good;
  req.hops_len = 0;
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT, "request.hops_len");
  req = good;
  req.hops = NULL;
  expect_error(program, scratch, &req, FASTIAM_RESULT_NULL_ARGUMENT, "request.hops");
  req = good;
  req.principal.arn = S("not-a-principal");
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT, "request.principal.arn");
  req = good;
  fastiam_credentials creds = {S("yesterday"), {NULL, 0}};
  req.credentials = &creds;
  expect_error(program, scratch, &req, FASTIAM_RESULT_INVALID_ARGUMENT,
               "request.credentials.issued");
  req = good;
  req.called_via_services_len = 3;
  expect_error(program, scratch, &req, FASTIAM_RESULT_NULL_ARGUMENT,
               "request.called_via_services");

  /* Output arrays too small: a code naming the array, nothing written. */
  req = good;
  req.hops_len = 1;
  fastiam_outcome probe = outcome_of(&b);
  CHECK(fastiam_evaluate(program, scratch, &req, &probe) == FASTIAM_RESULT_OK, "probe");
  if (probe.matched_len > 0) {
    fastiam_hop_outcome small_hops[1];
    uint32_t small[1];
    fastiam_outcome o = outcome_of(&b);
    o.hops = small_hops;
    o.hops_capacity = 1;
    o.matched = small;
    o.matched_capacity = probe.matched_len - 1;
    o.decision = 99;
    CHECK(fastiam_evaluate(program, scratch, &req, &o) == FASTIAM_RESULT_INSUFFICIENT_SIZE,
          "small matched");
    CHECK(contains(last_error(), "outcome.matched"), "names the array: %s", last_error());
    CHECK(o.decision == 99, "decision untouched");
  }
  /* NULL arrays: lengths reported, nothing copied. */
  fastiam_outcome bare;
  memset(&bare, 0, sizeof bare);
  CHECK(fastiam_evaluate(program, scratch, &req, &bare) == FASTIAM_RESULT_OK, "bare");
  CHECK(bare.decision == probe.decision && bare.matched_len == probe.matched_len &&
            bare.hops_len == probe.hops_len,
        "bare outcome agrees");

  /* The scratch still works after all those errors. */
  fastiam_outcome again = outcome_of(&b);
  CHECK(fastiam_evaluate(program, scratch, &good, &again) == FASTIAM_RESULT_OK &&
            again.decision == ok.decision && again.denied_at == ok.denied_at &&
            again.matched_len == ok.matched_len,
        "same answer after errors");

  /* Statement and key lookups. */
  fastiam_statement st;
  CHECK(fastiam_program_statement(program, 0, &st) == FASTIAM_RESULT_OK && st.policy.len > 0,
        "statement 0");
  CHECK(fastiam_program_statement(program, info.statements, &st) ==
            FASTIAM_RESULT_INVALID_ARGUMENT,
        "statement out of range");
  fastiam_str key;
  CHECK(fastiam_program_key_name(program, 0, &key) == FASTIAM_RESULT_OK && key.len > 0,
        "key 0");
  CHECK(fastiam_program_key_name(program, info.keys, &key) == FASTIAM_RESULT_INVALID_ARGUMENT,
        "key out of range");

  /* The message API: snprintf semantics. */
  fastiam_program_key_name(program, info.keys, &key);
  size_t full = fastiam_error_message(NULL, 0);
  char small_buf[8];
  CHECK(fastiam_error_message(small_buf, sizeof small_buf) == full && full > 7 &&
            strlen(small_buf) == 7,
        "cut message");
  CHECK(strcmp(fastiam_result_name(FASTIAM_RESULT_PANIC), "FASTIAM_RESULT_PANIC") == 0,
        "result names");
  CHECK(fastiam_reason_name(0) == NULL && fastiam_decision_name(0) == NULL, "no name for 0");
  CHECK(strlen(fastiam_version()) > 0, "version");

  buffers_free(&b);
  fastiam_scratch_free(scratch);
  fastiam_program_free(program);
  free(bytes);
  fiam_requests_free(&r);
  fastiam_builder_free(error_builder);
  printf("errors: checked\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [THREADS ROUNDS]\n", argv[0]);
    return 2;
  }
  int nthreads = argc > 2 ? atoi(argv[2]) : 8;
  int rounds = argc > 3 ? atoi(argv[3]) : 3;
  conformance(argv[1], 0);
  conformance(argv[1], 1);
  threads(argv[1], nthreads, rounds);
  errors(argv[1]);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
