/* buf.h - growable byte buffers and bounded text helpers. */
#ifndef ASSAY_BUF_H
#define ASSAY_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;   /* always NUL-terminated once anything was appended */
    size_t len;
    size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
const char *buf_str(const struct buf *b);   /* "" when empty */
char *buf_steal(struct buf *b);             /* caller frees (NULL: out of memory); buffer reset */
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

/* Text helpers used for feedback shown to people (malloc'd; NULL when
 * memory ran out, as from buf_steal). */
char *text_utf8_clean(const char *s, size_t len);     /* invalid bytes -> U+FFFD */
char *text_last_lines(const char *s, size_t len, int nlines, size_t max_bytes);
char *text_first_bytes(const char *s, size_t len, size_t max_bytes);
int text_count_lines(const char *s, size_t len);

/* Text for a terminal: s as text_utf8_clean makes it, with every control
 * character a terminal would act on (C0 but tab and, when keep_newlines,
 * newline; DEL; C1 such as CSI) shown as a visible escape ("\x1b",
 * "\u009b") so a student's or a worker's bytes can never clear a screen,
 * set a title or write the clipboard.  JSON keeps the raw bytes; only
 * what is printed goes through this.  malloc'd; NULL: out of memory. */
char *text_visible(const char *s, size_t len, int keep_newlines);

#endif
