/*
 * The per-chain cost of the C ABI on the standard workload.
 *
 *   bench DIR [SECONDS]
 *
 * DIR is what `cargo run --release --example c_workload -- DIR` wrote: workload.fiam and
 * workload.requests (prebuilt requests with the Rust API's answers). First every request
 * is evaluated once and its answer checked against the Rust API's (a fast wrong answer is
 * not a result); then fastiam_evaluate is timed, single thread, in whole passes over all
 * requests for SECONDS (default 5): once asking for the decision only (no output arrays,
 * as the Rust API's figure), once with the full outcome (per-hop results, matched
 * statements, missing keys). Then the builder handle: each request built into one reused
 * builder (resolved against the program) and evaluated from it, per chain; and requests
 * built beforehand, one builder each, only evaluated.
 *
 * Under callgrind, `--toggle-collect=timed_build_and_evaluate` counts the timed per-chain
 * builder loop alone (a warm builder, as the Rust API's figure), without the first build
 * of each prebuilt builder (which allocates) or the checking pass.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastiam.h"
#include "requests.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void fail(const char *what) {
  char message[512];
  fastiam_error_message(message, sizeof message);
  fprintf(stderr, "%s: %s\n", what, message);
  exit(1);
}

/* One chain of the timed builder loop: built into the reused builder, then evaluated. Not
 * inlined, so that profilers can count it alone. */
__attribute__((noinline)) static fastiam_result timed_build_and_evaluate(
    fastiam_builder *builder, const fastiam_program *program, fastiam_scratch *scratch,
    const fastiam_request *request, fastiam_outcome *out) {
  fastiam_result r = fastiam_builder_build(builder, program, request);
  return r != FASTIAM_RESULT_OK ? r : fastiam_evaluate_builder(program, scratch, builder, out);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR [SECONDS]\n", argv[0]);
    return 2;
  }
  double seconds = argc > 2 ? atof(argv[2]) : 5.0;
  char path[4096];
  snprintf(path, sizeof path, "%s/workload.requests", argv[1]);
  fiam_requests r;
  if (fiam_requests_read(path, &r) != 0) return 1;
  fiam_requests_program_path(&r, 0, path, sizeof path);

  fastiam_program *program;
  fastiam_scratch *scratch;
  if (fastiam_program_open(path, strlen(path), &program) != FASTIAM_RESULT_OK) fail(path);
  if (fastiam_scratch_new(program, &scratch) != FASTIAM_RESULT_OK) fail("scratch");
  fastiam_program_info info;
  fastiam_program_get_info(program, &info);

  size_t max_hops = 1;
  for (size_t i = 0; i < r.cases_len; i++)
    if (r.cases[i].request.hops_len > max_hops) max_hops = r.cases[i].request.hops_len;
  fastiam_hop_outcome *hops = calloc(max_hops, sizeof *hops);
  uint32_t *matched = calloc(max_hops * info.statements + 1, sizeof *matched);
  uint32_t *missing = calloc(max_hops * info.keys + 1, sizeof *missing);
  fastiam_outcome full = {hops, max_hops, matched, max_hops * info.statements, missing,
                          max_hops * info.keys, 0, 0, 0, 0, 0, 0};

  /* Check every answer first. */
  size_t hops_evaluated = 0;
  for (size_t i = 0; i < r.cases_len; i++) {
    fastiam_outcome out = full;
    if (fastiam_evaluate(program, scratch, &r.cases[i].request, &out) != FASTIAM_RESULT_OK)
      fail("evaluate");
    char label[64];
    snprintf(label, sizeof label, "request %zu", i);
    if (fiam_check_outcome(&r.cases[i], &out, label) != 0) return 1;
    hops_evaluated += out.hops_len;
  }
  printf("%zu requests (%zu hops evaluated per pass): every answer equals the Rust API's\n",
         r.cases_len, hops_evaluated);

  for (int with_arrays = 0; with_arrays < 2; with_arrays++) {
    fastiam_outcome bare;
    memset(&bare, 0, sizeof bare);
    const fastiam_outcome *shape = with_arrays ? &full : &bare;
    unsigned long passes = 0;
    uint32_t sink = 0;
    double start = now(), elapsed;
    do {
      for (size_t i = 0; i < r.cases_len; i++) {
        fastiam_outcome out = *shape;
        if (fastiam_evaluate(program, scratch, &r.cases[i].request, &out) != FASTIAM_RESULT_OK)
          fail("evaluate");
        sink += out.decision;
      }
      passes++;
      elapsed = now() - start;
    } while (elapsed < seconds);
    double chains = (double)passes * (double)r.cases_len;
    printf("c abi      (fastiam_evaluate, %-13s): %8.1f ns/chain %10.0f hops/s (%lu passes%s)\n",
           with_arrays ? "full outcome" : "decision only", elapsed * 1e9 / chains,
           (double)passes * (double)hops_evaluated / elapsed, passes, sink ? "" : "!");
  }

  /* The builder handle: answers checked first, then timed. */
  fastiam_builder *builder;
  if (fastiam_builder_new(&builder) != FASTIAM_RESULT_OK) fail("builder");
  for (size_t i = 0; i < r.cases_len; i++) {
    fastiam_outcome out = full;
    if (fastiam_builder_build(builder, program, &r.cases[i].request) != FASTIAM_RESULT_OK)
      fail("build");
    if (fastiam_evaluate_builder(program, scratch, builder, &out) != FASTIAM_RESULT_OK)
      fail("evaluate_builder");
    char label[64];
    snprintf(label, sizeof label, "request %zu (builder)", i);
    if (fiam_check_outcome(&r.cases[i], &out, label) != 0) return 1;
  }
  fastiam_builder **prebuilt = calloc(r.cases_len, sizeof *prebuilt);
  for (size_t i = 0; i < r.cases_len; i++) {
    if (fastiam_builder_new(&prebuilt[i]) != FASTIAM_RESULT_OK ||
        fastiam_builder_build(prebuilt[i], program, &r.cases[i].request) != FASTIAM_RESULT_OK)
      fail("prebuild");
  }
  for (int per_chain = 1; per_chain >= 0; per_chain--) {
    fastiam_outcome bare;
    memset(&bare, 0, sizeof bare);
    unsigned long passes = 0;
    uint32_t sink = 0;
    double start = now(), elapsed;
    do {
      for (size_t i = 0; i < r.cases_len; i++) {
        fastiam_outcome out = bare;
        if (per_chain) {
          if (timed_build_and_evaluate(builder, program, scratch, &r.cases[i].request, &out) !=
              FASTIAM_RESULT_OK)
            fail("build and evaluate");
        } else if (fastiam_evaluate_builder(program, scratch, prebuilt[i], &out) !=
                   FASTIAM_RESULT_OK) {
          fail("evaluate_builder");
        }
        sink += out.decision;
      }
      passes++;
      elapsed = now() - start;
    } while (elapsed < seconds);
    double chains = (double)passes * (double)r.cases_len;
    printf("c abi      (%-34s): %8.1f ns/chain %10.0f hops/s (%lu passes%s)\n",
           per_chain ? "builder_build + evaluate_builder" : "prebuilt builders, evaluate only",
           elapsed * 1e9 / chains, (double)passes * (double)hops_evaluated / elapsed, passes,
           sink ? "" : "!");
  }
  for (size_t i = 0; i < r.cases_len; i++) fastiam_builder_free(prebuilt[i]);
  free(prebuilt);
  fastiam_builder_free(builder);

  free(hops);
  free(matched);
  free(missing);
  fastiam_scratch_free(scratch);
  fastiam_program_free(program);
  fiam_requests_free(&r);
  return 0;
}
