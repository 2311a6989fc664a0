/*
 * buf.c - growable byte buffers and bounded text helpers.
 *
 * Every module that builds strings (feedback, diffs, log lines) uses
 * struct buf instead of fixed arrays, so nothing is silently cut.  The
 * text_* helpers turn arbitrary bytes a submission printed into short,
 * valid UTF-8 that can go into results.json and onto a student's screen.
 */
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0 || buf_reserve(b, (size_t)n) < 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_steal(struct buf *b)
{
    char *p = b->data ? b->data : strdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not valid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return c == 0 ? 0 : 1;   /* NUL is not allowed in JSON strings here */
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if (avail < n)
        return 0;
    unsigned cp = c & (0xFF >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

char *text_utf8_clean(const char *s, size_t len)
{
    struct buf out = BUF_INIT;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int rc = buf_append(&out, "", 0);
    while (rc == 0 && i < len) {
        size_t n = utf8_seq_len(p + i, len - i);
        if (n == 0) {
            rc = buf_append(&out, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            rc = buf_append(&out, p + i, n);
            i += n;
        }
    }
    if (rc < 0) {
        buf_free(&out);
        return NULL;   /* out of memory: no text rather than a cut one */
    }
    return buf_steal(&out);
}

/* Appends the visible form of one character of text_visible's input. */
static int visible_char(struct buf *out, const unsigned char *c, size_t n,
                        int keep_newlines)
{
    if (n == 1 && (c[0] == '\t' || (c[0] == '\n' && keep_newlines)))
        return buf_append(out, c, 1);
    if (n == 1 && (c[0] < 0x20 || c[0] == 0x7F))
        return buf_printf(out, "\\x%02x", c[0]);
    if (n == 2 && c[0] == 0xC2 && c[1] < 0xA0)   /* U+0080..U+009F: C1 controls */
        return buf_printf(out, "\\u%04x", c[1]);
    return buf_append(out, c, n);
}

char *text_visible(const char *s, size_t len, int keep_newlines)
{
    struct buf out = BUF_INIT;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int rc = buf_append(&out, "", 0);
    while (rc == 0 && i < len) {
        size_t n = p[i] == 0 ? 1 : utf8_seq_len(p + i, len - i);
        if (n == 0) {
            rc = buf_append(&out, "\xEF\xBF\xBD", 3);
            i++;
            continue;
        }
        rc = visible_char(&out, p + i, n, keep_newlines);
        i += n;
    }
    if (rc < 0) {
        buf_free(&out);
        return NULL;   /* out of memory */
    }
    return buf_steal(&out);
}

/* Back up to a UTF-8 boundary so a cut never splits a character. */
static size_t utf8_floor(const char *s, size_t pos)
{
    while (pos > 0 && ((unsigned char)s[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

char *text_first_bytes(const char *s, size_t len, size_t max_bytes)
{
    if (len <= max_bytes)
        return text_utf8_clean(s, len);
    size_t cut = utf8_floor(s, max_bytes);
    struct buf out = BUF_INIT;
    char *head = text_utf8_clean(s, cut);
    if (!head)
        return NULL;   /* out of memory */
    int rc = buf_printf(&out, "%s\n[... %zu more bytes not shown]\n", head, len - cut);
    free(head);
    return rc < 0 ? NULL : buf_steal(&out);
}

char *text_last_lines(const char *s, size_t len, int nlines, size_t max_bytes)
{
    size_t end = len;
    while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r'))
        end--;
    size_t start = end;
    int seen = 0;
    while (start > 0) {
        if (s[start - 1] == '\n' && ++seen == nlines)
            break;
        start--;
    }
    if (end - start > max_bytes)
        start = end - max_bytes;
    while (start < end && ((unsigned char)s[start] & 0xC0) == 0x80)
        start++;
    struct buf out = BUF_INIT;
    char *tail = text_utf8_clean(s + start, end - start);
    int rc = tail && (start == 0 || buf_puts(&out, "[...]\n") == 0) ? buf_puts(&out, tail) : -1;
    free(tail);
    if (rc < 0) {
        buf_free(&out);
        return NULL;   /* out of memory */
    }
    return buf_steal(&out);
}

int text_count_lines(const char *s, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n')
            n++;
    if (len > 0 && s[len - 1] != '\n')
        n++;
    return n;
}
