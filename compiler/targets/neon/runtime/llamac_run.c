/* llamac-run: token ids in, logits or greedy ids out (JSON), over the runtime in lc_model.c.
 *   llamac-run DIR --ids 1,2,3 [--start P] [--greedy N] [--logits last|all] [--no-verify]
 *   llamac-run DIR --serve [--no-verify]
 * --serve keeps the model (and its KV cache) for a session of line commands on stdin, so verify and
 * eval do not start a process per decode step:
 *   reset                      -> "ok 0"
 *   prefill START N id1 .. idN  -> "ok <N*vocab>" then N*vocab float32 (little-endian) on stdout
 *   decode ID                   -> "ok <vocab>" then vocab float32
 *   quit
 * A failed command answers "error <one line>" and the session goes on. */
#include "lc_model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void) {
  fprintf(stderr, "usage: llamac-run DIR (--ids 1,2,3 [--start P] [--greedy N] [--logits last|all] | --serve) [--no-verify]\n");
  return 2;
}

static void print_row(const float *x, int n) {
  putchar('[');
  for (int i = 0; i < n; i++) printf(i ? ",%.9g" : "%.9g", (double)x[i]);
  putchar(']');
}

static int argmax(const float *x, int n) {
  int b = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[b]) b = i;
  return b;
}

static int serve(lc_model *m) {
  int V = lc_vocab(m), cap = 0;
  float *buf = NULL;
  int32_t *ids = NULL;
  char *line = NULL;
  size_t linecap = 0;
  while (getline(&line, &linecap, stdin) > 0) {
    char *p = line, *end;
    if (!strncmp(p, "quit", 4)) break;
    if (!strncmp(p, "reset", 5)) {
      lc_reset(m);
      printf("ok 0\n");
    } else if (!strncmp(p, "prefill ", 8)) {
      long start = strtol(p + 8, &end, 10), n = strtol(end, &end, 10);
      if (n <= 0 || n > (1L << 24)) { printf("error prefill: bad token count %ld\n", n); fflush(stdout); continue; }
      if (n > cap) {
        cap = (int)n;
        buf = realloc(buf, (size_t)cap * V * sizeof(float));
        ids = realloc(ids, (size_t)cap * sizeof(int32_t));
        if (!buf || !ids) { printf("error out of memory\n"); return 1; }
      }
      int bad = 0;
      for (long i = 0; i < n; i++) {
        char *q = end;
        ids[i] = (int32_t)strtol(q, &end, 10);
        if (end == q) bad = 1;
      }
      if (bad) printf("error prefill: expected %ld token ids\n", n);
      else if (lc_prefill(m, ids, (int)n, (int)start, buf)) printf("error %s\n", lc_error(m));
      else {
        printf("ok %ld\n", n * V);
        fwrite(buf, sizeof(float), (size_t)n * V, stdout);
      }
    } else if (!strncmp(p, "decode ", 7)) {
      long id = strtol(p + 7, &end, 10);
      if (end == p + 7) printf("error decode: expected a token id\n");
      else if (lc_decode(m, (int32_t)id)) printf("error %s\n", lc_error(m));
      else {
        printf("ok %d\n", V);
        fwrite(lc_logits(m), sizeof(float), (size_t)V, stdout);
      }
    } else {
      printf("error unknown command\n");
    }
    fflush(stdout);
  }
  free(line); free(buf); free(ids);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) return usage();
  const char *dir = argv[1], *idlist = NULL, *logits = "last";
  int start = 0, greedy = 0, do_serve = 0;
  lc_load_options opts = {1};
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--ids") && i + 1 < argc) idlist = argv[++i];
    else if (!strcmp(argv[i], "--start") && i + 1 < argc) start = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--greedy") && i + 1 < argc) greedy = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--logits") && i + 1 < argc) logits = argv[++i];
    else if (!strcmp(argv[i], "--serve")) do_serve = 1;
    else if (!strcmp(argv[i], "--no-verify")) opts.verify_sha256 = 0;
    else return usage();
  }
  if (!do_serve && !idlist) return usage();
  if (strcmp(logits, "last") && strcmp(logits, "all")) return usage();
  char err[512];
  lc_model *m = lc_load(dir, &opts, err, sizeof err);
  if (!m) { fprintf(stderr, "llamac-run: error: %s\n", err); return 1; }
  if (do_serve) {
    printf("ready %d\n", lc_vocab(m));
    fflush(stdout);
    int rc = serve(m);
    lc_free(m);
    return rc;
  }
  int n = 0, V = lc_vocab(m);
  int32_t *ids = malloc((strlen(idlist) / 2 + 2) * sizeof(int32_t));
  for (const char *p = idlist; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) { fprintf(stderr, "llamac-run: error: --ids: expected comma-separated token ids\n"); return 1; }
    ids[n++] = (int32_t)v;
    p = *end == ',' ? end + 1 : end;
  }
  int all = !strcmp(logits, "all");
  float *rows = all ? malloc((size_t)n * V * sizeof(float)) : NULL;
  if (!ids || (all && !rows) || lc_prefill(m, ids, n, start, rows)) {
    fprintf(stderr, "llamac-run: error: %s\n", lc_error(m));
    return 1;
  }
  if (greedy > 0) {
    printf("{\"prompt\":%d,\"greedy\":[", n);
    for (int i = 0; i < greedy; i++) {
      int t = argmax(lc_logits(m), V);
      printf(i ? ",%d" : "%d", t);
      if (i + 1 < greedy && lc_decode(m, t)) { fprintf(stderr, "llamac-run: error: %s\n", lc_error(m)); return 1; }
    }
    printf("]}\n");
  } else {
    printf("{\"tokens\":%d,\"vocab\":%d,\"logits\":", n, V);
    if (all) {
      putchar('[');
      for (int i = 0; i < n; i++) { if (i) putchar(','); print_row(rows + (size_t)i * V, V); }
      putchar(']');
    } else {
      print_row(lc_logits(m), V);
    }
    printf("}\n");
  }
  free(rows); free(ids);
  lc_free(m);
  return 0;
}
