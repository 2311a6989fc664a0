/*
 * html.c - the helpers every page is built with: HTML escaping, URL
 * escaping, the page frame (head with the one stylesheet, top bar) and
 * forms that carry the CSRF token.
 *
 * Everything a student, a worker or a file wrote reaches a page only
 * through html_escape (or html_printf, whose %s escapes): names, scores'
 * labels, feedback, log lines, reasons.  Text is first made valid UTF-8
 * and stripped of control characters, so nothing shown can inject markup
 * or confuse the browser's parser.
 */
#define _GNU_SOURCE
#include "web/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int html_escape_n(struct buf *b, const char *s, size_t len)
{
    char *clean = text_utf8_clean(s ? s : "", s ? len : 0);
    if (!clean)
        return -1;
    int rc = 0;
    const char *run = clean;
    for (const char *p = clean; ; p++) {
        const char *rep = NULL;
        unsigned char ch = (unsigned char)*p;
        switch (ch) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        case '\t': case '\n': break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                rep = "";
        }
        if (!rep && ch)
            continue;
        if (p > run && buf_append(b, run, (size_t)(p - run)) < 0)
            rc = -1;
        if (!ch)
            break;
        if (buf_puts(b, rep) < 0)
            rc = -1;
        run = p + 1;
    }
    free(clean);
    return rc;
}

int html_escape(struct buf *b, const char *s)
{
    return html_escape_n(b, s, s ? strlen(s) : 0);
}

int html_url_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-_.~/", *p)) {
            rc |= buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc |= buf_append(b, e, 3);
        }
    }
    return rc;
}

/* One conversion of html_printf: the spec in SPEC (from '%' to the
 * letter), its argument taken from AP. */
static int one_conversion(struct buf *b, const char *spec, size_t n, va_list *ap)
{
    char f[16];
    if (n >= sizeof f)
        return -1;
    memcpy(f, spec, n);
    f[n] = '\0';
    char last = f[n - 1];
    if (last == 's')
        return html_escape(b, va_arg(*ap, const char *));
    if (last == 'd')
        return buf_printf(b, f, va_arg(*ap, int));
    if (last == 'u' && n >= 3 && f[n - 2] == 'z')
        return buf_printf(b, f, va_arg(*ap, size_t));
    if (last == 'g' || last == 'f')
        return buf_printf(b, f, va_arg(*ap, double));
    return -1;
}

int html_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = 0;
    const char *p = fmt;
    while (*p) {
        const char *pct = strchr(p, '%');
        if (!pct) {
            rc |= buf_puts(b, p);
            break;
        }
        rc |= buf_append(b, p, (size_t)(pct - p));
        if (pct[1] == '%') {
            rc |= buf_puts(b, "%");
            p = pct + 2;
            continue;
        }
        size_t n = 1 + strspn(pct + 1, "0123456789.-lz");
        if (!pct[n]) {
            rc = -1;
            break;
        }
        n++;
        if (pct[n - 1] == 'd' && n >= 4 && pct[n - 2] == 'l' && pct[n - 3] == 'l')
            rc |= buf_printf(b, "%lld", va_arg(ap, long long));
        else
            rc |= one_conversion(b, pct, n, &ap);
        p = pct + n;
    }
    va_end(ap);
    return rc;
}

void html_begin(const struct web_request *req, struct web_response *res, const char *title)
{
    struct buf *b = &res->body;
    html_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<title>%s - Assay</title><link rel=\"stylesheet\" href=\"/static/assay.css\">"
                "</head><body><header class=\"top\"><a class=\"brand\" href=\"/\">Assay</a>",
                title);
    if (req->user) {
        html_printf(b, "<span class=\"who\">%s%s</span>", req->user->name,
                    req->user->admin ? " (admin)" : "");
        if (req->user->admin)
            buf_puts(b, "<a href=\"/admin\">Admin</a>");
        if (req->session) {
            html_form_begin(req, res, "/logout", "inline");
            buf_puts(b, "<button type=\"submit\">Sign out</button></form>");
        }
    }
    html_printf(b, "</header><main><h1>%s</h1>\n", title);
}

void html_end(struct web_response *res)
{
    buf_puts(&res->body, "</main></body></html>\n");
}

void html_form_begin(const struct web_request *req, struct web_response *res,
                     const char *action, const char *cls)
{
    html_printf(&res->body, "<form method=\"post\" action=\"%s\" class=\"%s\">"
                "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", action, cls ? cls : "",
                req->csrf ? req->csrf : "");
}
