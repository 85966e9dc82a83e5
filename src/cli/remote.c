/*
 * remote.c — shared plumbing of the management commands (see remote.h).
 */
#include "cli/remote.h"

#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

void remote_init(struct remote *r, const char *cmd)
{
    memset(r, 0, sizeof(*r));
    r->cmd = cmd;
    r->host = getenv("SLUICE_HOST");
    if (!r->host || !*r->host) r->host = "http://localhost:8086";
    r->token = getenv("SLUICE_TOKEN");
    if (!r->token || !*r->token) r->token = getenv("INFLUX_TOKEN");
}

int remote_set_format(struct remote *r, const char *fmt)
{
    if (!strcmp(fmt, "json"))
        r->json = 1;
    else if (!strcmp(fmt, "pretty"))
        r->json = 0;
    else {
        fprintf(stderr, "%s: unsupported format '%s' (use json or pretty)\n", r->cmd, fmt);
        return REMOTE_USAGE;
    }
    return 0;
}

int remote_open(struct remote *r)
{
    int rc = sl_admin_new(r->host, r->token, &r->a);
    if (rc < 0) {
        fprintf(stderr, "%s: cannot set up the connection to %s: %s\n", r->cmd, r->host,
                sl_strerror(rc));
        return REMOTE_FAIL;
    }
    return 0;
}

void remote_close(struct remote *r)
{
    sl_admin_free(r->a);
    r->a = NULL;
}

/* The server's message: {"error": "..."} (v3) or {"message": "..."} (v2), or
 * the body itself. */
static void print_error(struct remote *r, const char *what, long status, const char *body,
                        size_t len)
{
    while (len && (body[len - 1] == '\n' || body[len - 1] == '\r'))
        len--;
    json_t *j = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "error"));
    if (!msg) msg = json_string_value(json_object_get(j, "message"));
    if (!status)
        fprintf(stderr, "%s: %s: cannot reach %s: %.*s\n", r->cmd, what, r->host, (int)len, body);
    else if (msg)
        fprintf(stderr, "%s: %s: HTTP %ld: %s\n", r->cmd, what, status, msg);
    else
        fprintf(stderr, "%s: %s: HTTP %ld%s%.*s\n", r->cmd, what, status, len ? ": " : "",
                (int)(len > 2000 ? 2000 : len), body);
    if (status == 401)
        fprintf(stderr, "%s: give an admin token with --token or $SLUICE_TOKEN\n", r->cmd);
    json_decref(j);
}

int remote_call(struct remote *r, const char *what, const char *method, const char *path,
                json_t *body, json_t **out, long *status)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    long st = 0;
    char *resp = NULL;
    size_t len = 0;
    if (out) *out = NULL;
    int rc =
        sl_admin_request(r->a, method, path, text, text ? strlen(text) : 0, 0, &st, &resp, &len);
    free(text);
    if (status) *status = st;
    if (rc < 0) {
        if (resp)
            print_error(r, what, st, resp, len);
        else
            fprintf(stderr, "%s: %s: %s\n", r->cmd, what, sl_strerror(rc));
        sl_free(resp);
        return REMOTE_FAIL;
    }
    if (out && len) {
        json_error_t e;
        *out = json_loadb(resp, len, 0, &e);
        if (!*out) {
            fprintf(stderr, "%s: %s: the server's answer is not JSON: %s\n", r->cmd, what, e.text);
            memset(resp, 0, len);
            sl_free(resp);
            return REMOTE_FAIL;
        }
    }
    memset(resp, 0, len); /* may hold a new token's secret */
    sl_free(resp);
    return 0;
}

void remote_table(FILE *f, const char *const *headers, size_t ncols, const char *const *cells,
                  size_t nrows)
{
    size_t w[16] = {0};
    if (ncols > 16) ncols = 16;
    for (size_t c = 0; c < ncols; c++)
        w[c] = strlen(headers[c]);
    for (size_t i = 0; i < nrows; i++)
        for (size_t c = 0; c < ncols; c++) {
            const char *s = cells[i * ncols + c];
            size_t n = s ? strlen(s) : 0;
            if (n > w[c]) w[c] = n;
        }
    for (int line = 0; line < 2; line++) {
        for (size_t c = 0; c < ncols; c++) {
            if (line == 0 && c + 1 < ncols)
                fprintf(f, "%-*s  ", (int)w[c], headers[c]);
            else if (line == 0)
                fprintf(f, "%s\n", headers[c]);
            else {
                for (size_t k = 0; k < w[c]; k++)
                    fputc('-', f);
                fputs(c + 1 < ncols ? "  " : "\n", f);
            }
        }
    }
    for (size_t i = 0; i < nrows; i++)
        for (size_t c = 0; c < ncols; c++) {
            const char *s = cells[i * ncols + c];
            if (c + 1 < ncols)
                fprintf(f, "%-*s  ", (int)w[c], s ? s : "");
            else
                fprintf(f, "%s\n", s ? s : "");
        }
}

void remote_print_json(FILE *f, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) fprintf(f, "%s\n", s);
    free(s);
}

int remote_delete(struct remote *r, const char *noun, const char *path, const char *param,
                  const char *key, const char *name)
{
    char what[600];
    char *esc = sl_admin_escape(name);
    char *url = NULL;
    size_t n = esc ? strlen(path) + strlen(param) + strlen(esc) + 3 : 0;
    if (esc && (url = sl_malloc(n))) snprintf(url, n, "%s?%s=%s", path, param, esc);
    snprintf(what, sizeof(what), "delete %s \"%.256s\"", noun, name);
    int rc = url ? remote_call(r, what, "DELETE", url, NULL, NULL, NULL) : REMOTE_FAIL;
    sl_free(esc);
    sl_free(url);
    if (rc != 0) return rc;
    if (r->json) {
        json_t *o = json_pack("{s:s,s:b}", key, name, "deleted", 1);
        remote_print_json(stdout, o);
        json_decref(o);
    } else {
        printf("%s \"%s\" deleted\n", noun, name);
    }
    return 0;
}
