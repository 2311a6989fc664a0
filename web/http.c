/*
 * http.c - the small parts of HTTP every handler shares: form fields of
 * an urlencoded body, response headers, error pages and redirects.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "web/html.h"
#include "web/web.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes an urlencoded value of N bytes ('+' is a space), malloc'd. */
static char *form_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%' && i + 2 < n &&
                   (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

char *web_form(const struct web_request *req, const char *name)
{
    const char *type = web_header(req, "Content-Type");
    if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33))
        return NULL;
    size_t nl = strlen(name);
    const char *p = req->body, *end = req->body + req->body_len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq && (size_t)(eq - p) == nl && !memcmp(p, name, nl))
            return form_decode(eq + 1, (size_t)(stop - eq - 1));
        p = stop + 1;
    }
    return NULL;
}

int web_add_header(struct web_response *res, const char *name, const char *value)
{
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return -1;
    return buf_printf(&res->headers, "%s: %s\n", name, value);
}

int web_respond_error(struct web_response *res, int status, const char *message)
{
    res->status = status;
    res->content_type = "text/html; charset=utf-8";
    buf_reset(&res->body);
    return html_printf(&res->body, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                       "<title>%d</title><link rel=\"stylesheet\" href=\"/static/assay.css\"></head>"
                       "<body><main><h1>%d</h1><p class=\"error\">%s</p><p><a href=\"/\">Home</a>"
                       "</p></main></body></html>\n", status, status, message);
}

int web_redirect(struct web_response *res, const char *location)
{
    res->status = 303;
    buf_reset(&res->body);
    return web_add_header(res, "Location", location);
}
