/* html.h - building pages: escaping and the common frame (html.c). */
#ifndef ASSAY_WEB_HTML_H
#define ASSAY_WEB_HTML_H

#include <stddef.h>

#include "common/buf.h"
#include "web/web.h"

/* Appends S with & < > " ' escaped (invalid UTF-8 replaced, control
 * characters but tab and newline dropped): for text and attribute
 * values alike.  -1 when memory ran out. */
int html_escape(struct buf *b, const char *s);
int html_escape_n(struct buf *b, const char *s, size_t len);
/* printf into B where every %s argument is escaped: only %s, %d, %zu,
 * %lld, %g, %.Nf and %% are understood. */
int html_printf(struct buf *b, const char *fmt, ...);
/* Appends S percent-encoded for a URL query value or path segment. */
int html_url_escape(struct buf *b, const char *s);

/* The page's head, the top bar (the user, sign out) and TITLE as h1. */
void html_begin(const struct web_request *req, struct web_response *res, const char *title);
void html_end(struct web_response *res);
/* A form posting to ACTION with the session's CSRF token as a hidden field
 * (close it with "</form>"). */
void html_form_begin(const struct web_request *req, struct web_response *res,
                     const char *action, const char *cls);

#endif
