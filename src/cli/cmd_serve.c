// onerec serve: the HTTP recommendation server, until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/args.h"
#include "serve/serve.h"

int cmd_serve(int argc, char **argv) {
    char *model = NULL, *va = NULL, *prod = NULL, *host = "127.0.0.1", *lang = "zh";
    int port = 8080, threads = 0, max_batch = 16, max_queue = 64, kv_tokens = 0, timeout_ms = 60000, max_body_kb = 256,
        drain_ms = 30000, batch_wait = 0, admin = 0;
    arg_spec specs[] = {
        {"model", ARG_STR, &model, "trained model dir (SFT/RL, with itemic tokens)", 1},
        {"pid2sid", ARG_STR, &va, "video/ad pid2sid table (pid, sid)", 1},
        {"product-pid2sid", ARG_STR, &prod, "product pid2sid table (for domain \"product\")", 0},
        {"host", ARG_STR, &host, "address to listen on (IPv4 or IPv6)", 0},
        {"port", ARG_INT, &port, "TCP port (0: any free one, printed on stdout)", 0},
        {"threads", ARG_INT, &threads, "model threads (0: OMP_NUM_THREADS or all cores)", 0},
        {"max-batch", ARG_INT, &max_batch, "requests decoded together in one batched step", 0},
        {"max-queue", ARG_INT, &max_queue, "requests waiting beyond the batch (more get 503)", 0},
        {"kv-tokens", ARG_INT, &kv_tokens, "shared KV cache size in tokens (0: max-batch x a 1024-token prompt)", 0},
        {"timeout-ms", ARG_INT, &timeout_ms, "per-request time limit (504 after it)", 0},
        {"batch-wait-ms", ARG_INT, &batch_wait, "an idle server waits this long for more requests to batch with", 0},
        {"max-body-kb", ARG_INT, &max_body_kb, "largest request body (413 above it)", 0},
        {"drain-ms", ARG_INT, &drain_ms, "on SIGTERM, how long in-flight requests may take to finish", 0},
        {"admin", ARG_BOOL, &admin, "serve POST /admin/reload and reload --model on SIGHUP", 0},
        {"lang", ARG_STR, &lang, "prompt language the model was trained with: zh or en", 0},
        {0}};
    int r = args_parse(argc, argv, specs, "onerec serve --model DIR --pid2sid FILE [--port 8080] [--max-batch 16]",
                       "Serve recommendations over HTTP (POST /v1/recommend, /v1/score, /v1/generate; GET /health, "
                       "/metrics) until SIGINT/SIGTERM.",
                       NULL, 0, NULL);
    if (r) return r > 0 ? 0 : 2;
    if (max_body_kb < 1 || drain_ms < 0) {
        fprintf(stderr, "onerec serve: error: --max-body-kb must be >= 1 and --drain-ms >= 0\n");
        return 2;
    }
    // the signals are taken here, by sigwait; every thread the server starts inherits the mask
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (admin) sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    serve_opts o = {model, va, prod, host, port, threads, max_batch, max_queue, kv_tokens, timeout_ms,
                    batch_wait, (size_t)max_body_kb * 1024, !strcmp(lang, "en"), admin};
    serve_server *s;
    if (serve_open(&s, &o)) return cli_fail("serve");
    printf("listening on http://%s%s%s:%d\n", strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", serve_port(s));
    fflush(stdout);
    int sig = 0;
    while (!sigwait(&set, &sig) && sig == SIGHUP) {
        if (serve_reload(s, NULL)) fprintf(stderr, "onerec serve: SIGHUP: reload failed, the old model goes on: %s\n", err_msg());
        else fprintf(stderr, "onerec serve: SIGHUP: reloaded %s\n", model);
    }
    fprintf(stderr, "onerec serve: %s: finishing in-flight requests\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    int left = serve_close(s, drain_ms);
    if (left) fprintf(stderr, "onerec serve: %d requests still running after --drain-ms %d were cut off\n", left, drain_ms);
    return 0;
}
