/* The smallest use of the C ABI: may alice read this object?
     fastiam compile policy.json -o policy.fiam && ./minimal policy.fiam      -> Allow */
#include <stdio.h>
#include <string.h>

#include "fastiam.h"

int main(int argc, char **argv) {
  fastiam_program *program;
  fastiam_scratch *scratch;
  char message[256];
  if (argc < 2 || fastiam_program_open(argv[1], strlen(argv[1]), &program) != FASTIAM_RESULT_OK) {
    fastiam_error_message(message, sizeof message);
    fprintf(stderr, "usage: minimal PROGRAM.fiam (%s)\n", message);
    return 2;
  }
  fastiam_scratch_new(program, &scratch); /* one per thread; the program is shared */

  fastiam_hop hop = {.action = FASTIAM_STR("s3:GetObject"),
                     .resource = FASTIAM_STR("arn:aws:s3:::data-bucket/reports/q1.csv")};
  fastiam_request request = {.dialect = FASTIAM_DIALECT_AWS,
                             .principal.arn = FASTIAM_STR("arn:aws:iam::111122223333:user/alice"),
                             .hops = &hop,
                             .hops_len = 1};
  fastiam_outcome outcome = {0}; /* no arrays: the decision, reason and counts only */
  if (fastiam_evaluate(program, scratch, &request, &outcome) != FASTIAM_RESULT_OK) {
    fastiam_error_message(message, sizeof message);
    fprintf(stderr, "%s\n", message);
    return 1;
  }
  printf("%s (%s)\n", fastiam_decision_name(outcome.decision), fastiam_reason_name(outcome.reason));

  fastiam_scratch_free(scratch);
  fastiam_program_free(program);
  return outcome.decision == FASTIAM_DECISION_ALLOW ? 0 : 1;
}
