/* Reader of the flat requests format (see requests.rs for the format, requests.h for the
   API). Two passes: the first splits the file into lines and fields in place and counts
   what the requests need; the second fills arrays of exactly that size, so that no
   pointer into a growing array is ever taken. */
#include "requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABSENT ((const char *)1) /* marker for `\N` during parsing */

typedef struct line {
  char **f; /* fields */
  size_t n;
  size_t no; /* 1-based line number */
} line;

static int fail(const char *path, size_t no, const char *what) {
  fprintf(stderr, "%s:%zu: %s\n", path, no, what);
  return -1;
}

/* Unescapes a field in place; returns ABSENT for `\N`. */
static const char *unescape(char *s) {
  if (strcmp(s, "\\N") == 0) return ABSENT;
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '\\' && r[1]) {
      r++;
      *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r == 'r' ? '\r' : *r;
    } else {
      *w++ = *r;
    }
  }
  *w = 0;
  return s;
}

static fastiam_str str_of(const char *s) {
  fastiam_str out = {NULL, 0};
  if (s != ABSENT) {
    out.data = s;
    out.len = strlen(s);
  }
  return out;
}

static uint32_t num(const char *s) { return (uint32_t)strtoul(s, NULL, 10); }

static size_t count_ids(const char *s) {
  if (strcmp(s, "-") == 0) return 0;
  size_t n = 1;
  for (; *s; s++) n += *s == ',';
  return n;
}

static size_t parse_ids(const char *s, uint32_t *out) {
  if (strcmp(s, "-") == 0) return 0;
  size_t n = 0;
  char *end;
  do {
    out[n++] = (uint32_t)strtoul(s, &end, 10);
    s = end + (*end == ',');
  } while (*end == ',');
  return n;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      char *grown = realloc(buf, 2 * cap + 1);
      if (!grown) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = grown;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) buf[n] = 0;
  *len = n;
  return buf;
}

int fiam_requests_read(const char *path, fiam_requests *r) {
  memset(r, 0, sizeof *r);
  size_t len;
  r->text = read_file(path, &len);
  if (!r->text) return fail(path, 0, "cannot read the file");
  const char *slash = strrchr(path, '/');
  size_t dir_len = slash ? (size_t)(slash - path) : 1;
  r->dir = malloc(dir_len + 1);
  memcpy(r->dir, slash ? path : ".", dir_len);
  r->dir[dir_len] = 0;

  /* Pass 1: split lines and fields. */
  size_t nlines = 0, nfields = 0;
  for (size_t i = 0; i < len; i++) {
    nlines += r->text[i] == '\n';
    nfields += r->text[i] == '\t' || r->text[i] == '\n';
  }
  nlines += 1;
  nfields += 1;
  line *lines = calloc(nlines, sizeof *lines);
  r->fields = calloc(nfields, sizeof *r->fields);
  size_t li = 0, fi = 0;
  char *p = r->text;
  while (*p) {
    line *l = &lines[li];
    l->no = li + 1;
    l->f = &r->fields[fi];
    for (;;) {
      r->fields[fi++] = p;
      l->n++;
      while (*p && *p != '\t' && *p != '\n') p++;
      char c = *p;
      if (c) *p++ = 0;
      if (c != '\t') break;
    }
    li++;
  }
  nlines = li;

  /* Count. */
  size_t cases = 0, hops = 0, entries = 0, strs = 0, creds = 0, xhops = 0, ids = 0, progs = 0;
  for (size_t i = 0; i < nlines; i++) {
    line *l = &lines[i];
    const char *k = l->f[0];
    if (strcmp(k, "request") == 0) cases++;
    else if (strcmp(k, "hop") == 0) hops++;
    else if (strcmp(k, "context") == 0 || strcmp(k, "hopcontext") == 0) {
      if (l->n < 3) return fail(path, l->no, "context: too few fields");
      entries++;
      strs += l->n - 3;
    } else if (strcmp(k, "services") == 0) strs += l->n - 1;
    else if (strcmp(k, "credentials") == 0) creds++;
    else if (strcmp(k, "expecthop") == 0) {
      if (l->n != 5) return fail(path, l->no, "expecthop: 5 fields expected");
      xhops++;
      ids += count_ids(l->f[3]) + count_ids(l->f[4]);
    } else if (strcmp(k, "program") == 0) progs++;
  }
  r->cases = calloc(cases + 1, sizeof *r->cases);
  r->hops = calloc(hops + 1, sizeof *r->hops);
  r->entries = calloc(entries + 1, sizeof *r->entries);
  r->strs = calloc(strs + 1, sizeof *r->strs);
  r->credentials = calloc(creds + 1, sizeof *r->credentials);
  r->expected_hops = calloc(xhops + 1, sizeof *r->expected_hops);
  r->ids = calloc(ids + 1, sizeof *r->ids);
  r->programs = calloc(progs + 1, sizeof *r->programs);

  /* Pass 2: fill, with running positions in each array. Each request's hops, and each
     context's entries and values, are contiguous. */
  size_t nh = 0, ne = 0, ns = 0, nc = 0, nx = 0, ni = 0;
  fiam_case *c = NULL;
  fastiam_hop *hop = NULL;
  size_t program = 0;
  int rc = 0;
  for (size_t i = 0; i < nlines && rc == 0; i++) {
    line *l = &lines[i];
    const char *k = l->f[0];
    const char **f = (const char **)l->f;
    for (size_t j = 1; j < l->n; j++) f[j] = unescape(l->f[j]);
    if (strcmp(k, "fastiam-requests") == 0 || strcmp(k, "") == 0) continue;
    if (strcmp(k, "program") == 0) {
      program = r->programs_len;
      r->programs[r->programs_len++] = f[1];
      continue;
    }
    if (strcmp(k, "request") == 0) {
      if (l->n != 3) { rc = fail(path, l->no, "request: 3 fields expected"); break; }
      c = &r->cases[r->cases_len++];
      c->program = program;
      c->request.dialect =
          strcmp(f[1], "huawei") == 0 ? FASTIAM_DIALECT_HUAWEI : FASTIAM_DIALECT_AWS;
      c->request.principal.arn = str_of(f[2]);
      c->request.hops = &r->hops[nh];
      c->request.context = &r->entries[ne];
      c->hops = &r->expected_hops[nx];
      c->denied_at = FASTIAM_NO_HOP;
      hop = NULL;
      continue;
    }
    if (!c) { rc = fail(path, l->no, "a record before any request"); break; }
    if (strcmp(k, "principal") == 0) {
      if (l->n != 7) { rc = fail(path, l->no, "principal: 7 fields expected"); break; }
      fastiam_principal *pr = &c->request.principal;
      pr->kind = num(f[1]);
      pr->account = str_of(f[2]);
      pr->role_arn = str_of(f[3]);
      pr->parent_user_arn = str_of(f[4]);
      pr->service_linked = num(f[5]);
      pr->management_account = num(f[6]);
    } else if (strcmp(k, "services") == 0) {
      c->request.called_via_services = &r->strs[ns];
      c->request.called_via_services_len = l->n - 1;
      for (size_t j = 1; j < l->n; j++) r->strs[ns++] = str_of(f[j]);
    } else if (strcmp(k, "preserve_source_ip") == 0) {
      c->request.preserve_source_ip = num(f[1]);
    } else if (strcmp(k, "credentials") == 0) {
      if (l->n != 3) { rc = fail(path, l->no, "credentials: 3 fields expected"); break; }
      fastiam_credentials *cr = &r->credentials[nc++];
      cr->issued = str_of(f[1]);
      cr->expires = str_of(f[2]);
      c->request.credentials = cr;
    } else if (strcmp(k, "context") == 0 || strcmp(k, "hopcontext") == 0) {
      int of_hop = k[0] == 'h';
      if (of_hop && !hop) { rc = fail(path, l->no, "hopcontext before any hop"); break; }
      fastiam_context_entry *e = &r->entries[ne++];
      e->multi = num(f[1]);
      e->key = str_of(f[2]);
      e->values = &r->strs[ns];
      e->values_len = l->n - 3;
      for (size_t j = 3; j < l->n; j++) r->strs[ns++] = str_of(f[j]);
      if (of_hop) hop->context_len++;
      else c->request.context_len++;
    } else if (strcmp(k, "hop") == 0) {
      if (l->n != 9) { rc = fail(path, l->no, "hop: 9 fields expected"); break; }
      hop = &r->hops[nh++];
      c->request.hops_len++;
      hop->via = str_of(f[1]);
      hop->action = str_of(f[2]);
      hop->resource = str_of(f[3]);
      hop->resource_account = str_of(f[4]);
      hop->has_resource_policy = num(f[5]);
      hop->resource_policy = num(f[6]);
      hop->resource_policy_required = num(f[7]);
      hop->requires_no_permission = num(f[8]);
      hop->context = &r->entries[ne];
    } else if (strcmp(k, "expect") == 0) {
      if (l->n != 5) { rc = fail(path, l->no, "expect: 5 fields expected"); break; }
      c->decision = f[1];
      c->reason = f[2];
      c->denied_at = strcmp(f[3], "-") == 0 ? FASTIAM_NO_HOP : (size_t)num(f[3]);
    } else if (strcmp(k, "expecthop") == 0) {
      fiam_expected_hop *x = &r->expected_hops[nx++];
      c->hops_len++;
      x->decision = f[1];
      x->reason = f[2];
      x->matched = &r->ids[ni];
      x->matched_len = parse_ids(f[3], &r->ids[ni]);
      ni += x->matched_len;
      x->missing = &r->ids[ni];
      x->missing_len = parse_ids(f[4], &r->ids[ni]);
      ni += x->missing_len;
    } else if (strcmp(k, "end") == 0) {
      c = NULL;
    } else {
      rc = fail(path, l->no, "unknown record");
    }
  }
  free(lines);
  if (rc) fiam_requests_free(r);
  return rc;
}

const char *fiam_requests_program_path(const fiam_requests *r, size_t i, char *buf,
                                       size_t len) {
  const char *p = r->programs[i];
  if (p[0] == '/') snprintf(buf, len, "%s", p);
  else snprintf(buf, len, "%s/%s", r->dir, p);
  return buf;
}

void fiam_requests_free(fiam_requests *r) {
  free(r->cases);
  free((void *)r->programs);
  free(r->text);
  free(r->dir);
  free(r->fields);
  free(r->hops);
  free(r->entries);
  free(r->strs);
  free(r->credentials);
  free(r->expected_hops);
  free(r->ids);
  memset(r, 0, sizeof *r);
}

static int same_ids(const uint32_t *a, size_t alen, const uint32_t *b, size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen * sizeof *a) == 0);
}

int fiam_check_outcome(const fiam_case *c, const fastiam_outcome *out, const char *label) {
  const char *decision = fastiam_decision_name(out->decision);
  const char *reason = fastiam_reason_name(out->reason);
  if (!decision || strcmp(decision, c->decision) != 0) {
    fprintf(stderr, "%s: decision %s, expected %s\n", label, decision ? decision : "?",
            c->decision);
    return -1;
  }
  if (!reason || strcmp(reason, c->reason) != 0) {
    fprintf(stderr, "%s: reason %s, expected %s\n", label, reason ? reason : "?", c->reason);
    return -1;
  }
  if (out->denied_at != c->denied_at || out->hops_len != c->hops_len) {
    fprintf(stderr, "%s: denied_at %zu with %zu hops, expected %zu with %zu\n", label,
            out->denied_at, out->hops_len, c->denied_at, c->hops_len);
    return -1;
  }
  for (size_t h = 0; h < c->hops_len; h++) {
    const fastiam_hop_outcome *got = &out->hops[h];
    const fiam_expected_hop *want = &c->hops[h];
    const char *d = fastiam_decision_name(got->decision);
    const char *why = fastiam_reason_name(got->reason);
    if (!d || strcmp(d, want->decision) != 0 || !why || strcmp(why, want->reason) != 0) {
      fprintf(stderr, "%s: hop %zu: %s %s, expected %s %s\n", label, h, d ? d : "?",
              why ? why : "?", want->decision, want->reason);
      return -1;
    }
    if (!same_ids(out->matched + got->matched_start, got->matched_len, want->matched,
                  want->matched_len)) {
      fprintf(stderr, "%s: hop %zu: matched statements differ\n", label, h);
      return -1;
    }
    if (!same_ids(out->missing + got->missing_start, got->missing_len, want->missing,
                  want->missing_len)) {
      fprintf(stderr, "%s: hop %zu: missing keys differ\n", label, h);
      return -1;
    }
  }
  return 0;
}
