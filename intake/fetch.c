/*
 * fetch.c - one HTTP GET into a file with libcurl's easy interface:
 * assay-intake fetches one archive at a time, so a blocking transfer in
 * its own process is all it needs.  The size limit is enforced while the
 * bytes arrive (a Content-Length is not trusted), and redirects keep to
 * http(s) and never carry the token to another host (libcurl drops a
 * custom Authorization header when the host changes; PRIVATE-TOKEN goes
 * only to GitLab, which does not redirect archives).
 */
#define _GNU_SOURCE
#include "intake/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct sink {
    int fd;
    uint64_t written, max;
    bool too_big, failed;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    struct sink *k = arg;
    size_t n = size * nmemb;
    if (k->written + n > k->max) {
        k->too_big = true;
        return 0;   /* stops the transfer */
    }
    for (size_t done = 0; done < n;) {
        ssize_t w = write(k->fd, data + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            k->failed = true;
            return 0;
        }
        done += (size_t)w;
    }
    k->written += n;
    return n;
}

static struct curl_slist *header_list(char *const *headers, int n)
{
    struct curl_slist *l = NULL;
    for (int i = 0; i < n; i++) {
        struct curl_slist *next = curl_slist_append(l, headers[i]);
        if (!next) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = next;
    }
    return curl_slist_append(l, "User-Agent: assay-intake");
}

int fetch_to_file(const char *url, char *const *headers, int n, const char *path, uint64_t max,
                  double timeout_s, struct fetch_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    struct sink k = {.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), .max = max};
    if (k.fd < 0)
        return err_sys(e, "cannot create %s", path);
    CURL *c = curl_easy_init();
    struct curl_slist *h = header_list(headers, n);
    char cerr[CURL_ERROR_SIZE] = "";
    int rc = 0;
    if (!c || !h) {
        rc = err_set(e, "out of memory");
    } else {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
        CURLcode cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        r->too_big = k.too_big;
        if (k.failed)
            rc = err_sys(e, "cannot write %s (is the disk full?)", path);
        else if (cc != CURLE_OK && !k.too_big)
            snprintf(r->error, sizeof r->error, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        if (cc != CURLE_OK && !k.too_big)
            r->status = 0;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (close(k.fd) < 0 && rc == 0)
        rc = err_sys(e, "cannot write %s", path);
    return rc;
}
