#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "rec/generate.h"
#include "serve/sched.h"
#include "serve/serve.h"

struct serve_server {
    serve_opts o;
    rec_tables tables;
    serve_metrics metrics;
    sched *sched;
    struct MHD_Daemon *d;
    int listen_fd, port;
    atomic_int inflight;
};

typedef struct {
    char *buf;
    size_t len;
    int too_big;
    double t0;
} conn_ctx;

typedef struct {
    int status;
    char *body;                // malloc'd
    const char *type;
} answer;

static answer json_error(int status, const char *field, const char *msg) {
    sreq_error e = {.status = status};
    snprintf(e.field, sizeof e.field, "%s", field);
    snprintf(e.msg, sizeof e.msg, "%s", msg);
    return (answer){status, sreq_error_json(&e), "application/json"};
}

static answer route_post(serve_server *s, const char *url, const conn_ctx *cx) {
    sreq_kind kind = !strcmp(url, "/v1/recommend") ? SREQ_RECOMMEND : !strcmp(url, "/v1/score") ? SREQ_SCORE : SREQ_GENERATE;
    if (cx->too_big) {
        char msg[96];
        snprintf(msg, sizeof msg, "the body is larger than %zu bytes", s->o.max_body);
        return json_error(413, "", msg);
    }
    sreq r;
    sreq_error e;
    if (sreq_parse(&r, kind, cx->buf ? cx->buf : "", cx->len, &s->tables, &e))
        return (answer){e.status, sreq_error_json(&e), "application/json"};
    answer a = {500, NULL, "application/json"};
    sched_run(s->sched, &r, s->o.timeout_ms, &a.status, &a.body);
    sreq_free(&r);
    return a;
}

// POST /admin/reload {"model": DIR} (optional: the current --model dir)
static answer route_reload(serve_server *s, const conn_ctx *cx) {
    cJSON *o = cx->len ? cJSON_ParseWithLength(cx->buf, cx->len) : NULL;
    const cJSON *m = o ? cJSON_GetObjectItemCaseSensitive(o, "model") : NULL;
    if ((cx->len && !cJSON_IsObject(o)) || (m && !cJSON_IsString(m))) {
        cJSON_Delete(o);
        return json_error(400, "model", "the body must be empty or {\"model\": \"DIR\"}");
    }
    double t0 = time_now();
    char *dir = mem_strdup(m ? m->valuestring : s->o.model_dir);
    cJSON_Delete(o);
    int rc = dir ? serve_reload(s, dir) : ERR_FAIL;
    if (rc) {
        free(dir);
        return json_error(400, "model", err_msg());
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "model", dir);
    cJSON_AddNumberToObject(r, "took_ms", (time_now() - t0) * 1e3);
    answer a = {200, cJSON_PrintUnformatted(r), "application/json"};
    cJSON_Delete(r);
    free(dir);
    return a;
}

static answer route(serve_server *s, const char *url, const char *method, const conn_ctx *cx, const char **allow) {
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    *allow = NULL;
    if (!strcmp(url, "/health") || !strcmp(url, "/metrics")) {
        if (!get) return *allow = "GET, HEAD", json_error(405, "", "use GET");
        if (url[1] == 'h') {
            char name[1024];
            sched_model_name(s->sched, name, sizeof name);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "status", "ok");
            cJSON_AddStringToObject(o, "model", name);
            char *b = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            return (answer){200, b, "application/json"};
        }
        return (answer){200, serve_metrics_text(&s->metrics, atomic_load(&s->inflight)), "text/plain; version=0.0.4"};
    }
    if (!strcmp(url, "/v1/recommend") || !strcmp(url, "/v1/score") || !strcmp(url, "/v1/generate")) {
        if (!post) return *allow = "POST", json_error(405, "", "use POST with a JSON body");
        return route_post(s, url, cx);
    }
    if (s->o.admin && !strcmp(url, "/admin/reload")) {
        if (!post) return *allow = "POST", json_error(405, "", "use POST");
        return route_reload(s, cx);
    }
    return json_error(404, "", "no such endpoint (see /health, /metrics, /v1/recommend, /v1/score, /v1/generate)");
}

static enum MHD_Result respond(struct MHD_Connection *c, answer a, const char *allow) {
    if (!a.body) a = json_error(500, "", "out of memory");
    struct MHD_Response *r = a.body ? MHD_create_response_from_buffer(strlen(a.body), a.body, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!r) {
        free(a.body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a.type);
    if (a.status == 503) MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)a.status, r);
    MHD_destroy_response(r);
    return ok;
}

// libmicrohttpd calls this once with the headers, then with each piece of the body, then once more.
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    serve_server *s = cls;
    conn_ctx *cx = *con_cls;
    (void)version;
    if (!cx) {
        if (!(cx = calloc(1, sizeof *cx))) return MHD_NO;
        cx->t0 = time_now();
        *con_cls = cx;
        atomic_fetch_add(&s->inflight, 1);
        // a declared length over the limit is never buffered (the body is read and dropped, then 413:
        // answering before it is read makes clients see a reset instead of the answer)
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > s->o.max_body) cx->too_big = 1;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cx->too_big && cx->len + *upload_size > s->o.max_body) {
            cx->too_big = 1;   // the rest is read and dropped, then 413
            free(cx->buf), cx->buf = NULL, cx->len = 0;
        }
        if (!cx->too_big) {
            char *b = realloc(cx->buf, cx->len + *upload_size + 1);
            if (!b) return MHD_NO;
            memcpy(b + cx->len, upload, *upload_size);
            cx->buf = b, cx->len += *upload_size, b[cx->len] = 0;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    const char *allow;
    answer a = route(s, url, method, cx, &allow);
    serve_metrics_request(&s->metrics, serve_metrics_path_index(url), a.status, time_now() - cx->t0);
    return respond(c, a, allow);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why) {
    serve_server *s = cls;
    conn_ctx *cx = *con_cls;
    (void)c, (void)why;
    if (!cx) return;
    free(cx->buf);
    free(cx);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

// Our own listening socket, so that "address in use" and friends reach the user as such.
static int listen_on(const char *host, int port, int *fd_out, int *port_out) {
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET, a4->sin_port = htons((uint16_t)port), len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6, a6->sin6_port = htons((uint16_t)port), len = sizeof *a6;
    } else {
        return err_set("--host %s is not an IPv4 or IPv6 address", host);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0) return err_errno("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 128)) {
        int rc = err_errno("cannot listen on %s port %d", host, port);
        close(fd);
        return rc;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &len)) {
        close(fd);
        return err_errno("getsockname");
    }
    *port_out = ntohs(ss.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
    *fd_out = fd;
    return 0;
}

static int start_http(serve_server *s) {
    if (listen_on(s->o.host, s->o.port, &s->listen_fd, &s->port)) return ERR_FAIL;
    unsigned limit = (unsigned)(s->o.max_queue + s->o.max_batch + 64);
    s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC, 0, NULL, NULL,
                            on_request, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, s, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)60, MHD_OPTION_END);
    if (!s->d) {
        close(s->listen_fd), s->listen_fd = -1;
        return err_set("libmicrohttpd could not start on %s port %d", s->o.host, s->port);
    }
    return 0;
}

static int check_opts(const serve_opts *o) {
    if (o->port < 0 || o->port > 65535) return err_set("--port %d: must be 0..65535", o->port);
    if (o->max_batch < 1 || o->max_batch > 1024) return err_set("--max-batch %d: must be 1..1024", o->max_batch);
    if (o->max_queue < 0) return err_set("--max-queue %d: must be >= 0", o->max_queue);
    if (o->timeout_ms < 1) return err_set("--timeout-ms %d: must be >= 1", o->timeout_ms);
    if (o->batch_wait_ms < 0) return err_set("--batch-wait-ms %d: must be >= 0", o->batch_wait_ms);
    return 0;
}

static int open_model(lm **out, const char *dir) {
    lm *l = mem_alloc(sizeof *l);
    *out = NULL;
    if (!l) return ERR_FAIL;
    if (lm_open(l, dir)) {
        free(l);
        return ERR_FAIL;
    }
    if (!l->has_sid || l->sid.layers != 3) {
        lm_close(l), free(l);
        return err_set("%s: the model has no 3-layer itemic tokens (expand its vocabulary and train it first)", dir);
    }
    *out = l;
    return 0;
}

int serve_reload(serve_server *s, const char *dir) {
    lm *l;
    if (!dir) dir = s->o.model_dir;
    if (open_model(&l, dir)) return ERR_FAIL;
    return sched_swap_model(s->sched, l, dir);
}

int serve_open(serve_server **out, const serve_opts *o) {
    if (check_opts(o)) return ERR_FAIL;
    serve_server *s = mem_calloc(1, sizeof *s);
    if (!s) return ERR_FAIL;
    s->o = *o;
    s->listen_fd = -1;
    serve_metrics_init(&s->metrics);
    if (!s->o.kv_tokens) s->o.kv_tokens = s->o.max_batch * gen_kv_tokens_beam(1024, 32, 3);
    lm *l = NULL;
    int rc = open_model(&l, o->model_dir);
    if (!rc) rc = rec_tables_open(&s->tables, o->pid2sid, o->product_pid2sid);
    sched_opts so = {l, &s->tables, &s->metrics, o->model_dir, o->max_batch, o->max_queue, o->threads, o->lang_en,
                     s->o.kv_tokens, o->batch_wait_ms};
    if (!rc) rc = sched_start(&s->sched, &so);   // owns l from here on
    else if (l) lm_close(l), free(l);
    if (!rc) rc = start_http(s);
    if (rc) {
        serve_close(s, 0);
        return ERR_FAIL;
    }
    *out = s;
    return 0;
}

int serve_port(const serve_server *s) { return s->port; }

int serve_close(serve_server *s, int drain_ms) {
    if (!s) return 0;
    int left = 0;
    if (s->d) {
        int fd = MHD_quiesce_daemon(s->d);   // no new connections; open ones finish
        if (fd >= 0) close(fd);
        s->listen_fd = -1;
        double until = time_now() + drain_ms / 1e3;
        while (atomic_load(&s->inflight) > 0 && time_now() < until) usleep(5000);
        left = atomic_load(&s->inflight);
        MHD_stop_daemon(s->d);
    }
    if (s->listen_fd >= 0) close(s->listen_fd);
    sched_stop(s->sched);
    rec_tables_free(&s->tables);
    serve_metrics_free(&s->metrics);
    free(s);
    return left;
}
