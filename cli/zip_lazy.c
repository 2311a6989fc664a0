/*
 * zip_lazy.c - libzip for the assay command, loaded when the first zip
 * is read.
 *
 * Debian's libzip needs OpenSSL's libcrypto (for AES-encrypted entries,
 * which Assay refuses anyway), bound at load time: with libzip linked,
 * `assay --version` runs 4.07 million instructions, without it 0.29
 * million (callgrind; see docs/PERFORMANCE.md).  assay runs once per
 * submission and most submissions are not zips, so assay is linked
 * without libzip (-Wl,--as-needed drops it: nothing is left for it to
 * resolve), and this file defines the libzip functions that
 * common/archive.c calls.  The first call opens libzip with dlopen; each
 * function finds its real counterpart once and forwards to it.  The
 * daemons link libzip as usual: they start once.
 *
 * A missing libzip is reported the way the dynamic loader would report
 * it, one line and exit status 127, only later: when a zip is opened.
 * assay is single-threaded, so the cached pointers need no locking.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <zip.h>

_Static_assert(sizeof LIBZIP_SONAME > 1, "the Makefile found no soname for libzip");

static void *symbol(const char *name)
{
    static void *lib;
    if (!lib)
        lib = dlopen(LIBZIP_SONAME, RTLD_NOW | RTLD_LOCAL);
    void *fn = lib ? dlsym(lib, name) : NULL;
    if (!fn) {
        fprintf(stderr, "assay: cannot load %s from %s: %s\n", name, LIBZIP_SONAME, dlerror());
        exit(127);
    }
    return fn;
}

/* Declares REAL, the libzip function FN, looked up on the first call. */
#define REAL(fn)                                                                            \
    static __typeof__(fn) *real;                                                            \
    if (!real)                                                                              \
        real = (__typeof__(fn) *)symbol(#fn)

/* ---- opening, closing, errors ---- */

zip_t *zip_open_from_source(zip_source_t *src, int flags, zip_error_t *ze)
{
    REAL(zip_open_from_source);
    return real(src, flags, ze);
}

int zip_close(zip_t *z)
{
    REAL(zip_close);
    return real(z);
}

void zip_discard(zip_t *z)
{
    REAL(zip_discard);
    real(z);
}

const char *zip_strerror(zip_t *z)
{
    REAL(zip_strerror);
    return real(z);
}

void zip_error_init(zip_error_t *ze)
{
    REAL(zip_error_init);
    real(ze);
}

void zip_error_fini(zip_error_t *ze)
{
    REAL(zip_error_fini);
    real(ze);
}

void zip_error_set(zip_error_t *ze, int code, int sys)
{
    REAL(zip_error_set);
    real(ze, code, sys);
}

int zip_error_code_zip(const zip_error_t *ze)
{
    REAL(zip_error_code_zip);
    return real(ze);
}

const char *zip_error_strerror(zip_error_t *ze)
{
    REAL(zip_error_strerror);
    return real(ze);
}

zip_int64_t zip_error_to_data(const zip_error_t *ze, void *data, zip_uint64_t len)
{
    REAL(zip_error_to_data);
    return real(ze, data, len);
}

/* ---- sources ---- */

zip_source_t *zip_source_function_create(zip_source_callback cb, void *ud, zip_error_t *ze)
{
    REAL(zip_source_function_create);
    return real(cb, ud, ze);
}

zip_source_t *zip_source_function(zip_t *z, zip_source_callback cb, void *ud)
{
    REAL(zip_source_function);
    return real(z, cb, ud);
}

zip_source_t *zip_source_buffer(zip_t *z, const void *data, zip_uint64_t len, int freep)
{
    REAL(zip_source_buffer);
    return real(z, data, len, freep);
}

void zip_source_free(zip_source_t *src)
{
    REAL(zip_source_free);
    real(src);
}

zip_int64_t zip_source_seek_compute_offset(zip_uint64_t offset, zip_uint64_t length,
                                           void *data, zip_uint64_t data_length,
                                           zip_error_t *ze)
{
    REAL(zip_source_seek_compute_offset);
    return real(offset, length, data, data_length, ze);
}

/* ---- entries ---- */

zip_int64_t zip_get_num_entries(zip_t *z, zip_flags_t flags)
{
    REAL(zip_get_num_entries);
    return real(z, flags);
}

int zip_stat_index(zip_t *z, zip_uint64_t i, zip_flags_t flags, zip_stat_t *st)
{
    REAL(zip_stat_index);
    return real(z, i, flags, st);
}

int zip_file_get_external_attributes(zip_t *z, zip_uint64_t i, zip_flags_t flags,
                                     zip_uint8_t *opsys, zip_uint32_t *attr)
{
    REAL(zip_file_get_external_attributes);
    return real(z, i, flags, opsys, attr);
}

zip_file_t *zip_fopen_index(zip_t *z, zip_uint64_t i, zip_flags_t flags)
{
    REAL(zip_fopen_index);
    return real(z, i, flags);
}

zip_int64_t zip_fread(zip_file_t *zf, void *buf, zip_uint64_t len)
{
    REAL(zip_fread);
    return real(zf, buf, len);
}

zip_error_t *zip_file_get_error(zip_file_t *zf)
{
    REAL(zip_file_get_error);
    return real(zf);
}

int zip_fclose(zip_file_t *zf)
{
    REAL(zip_fclose);
    return real(zf);
}

zip_int64_t zip_file_add(zip_t *z, const char *name, zip_source_t *src, zip_flags_t flags)
{
    REAL(zip_file_add);
    return real(z, name, src, flags);
}

int zip_set_file_compression(zip_t *z, zip_uint64_t i, zip_int32_t method, zip_uint32_t level)
{
    REAL(zip_set_file_compression);
    return real(z, i, method, level);
}

int zip_file_set_dostime(zip_t *z, zip_uint64_t i, zip_uint16_t time, zip_uint16_t date,
                         zip_flags_t flags)
{
    REAL(zip_file_set_dostime);
    return real(z, i, time, date, flags);
}

int zip_file_set_external_attributes(zip_t *z, zip_uint64_t i, zip_flags_t flags,
                                     zip_uint8_t opsys, zip_uint32_t attr)
{
    REAL(zip_file_set_external_attributes);
    return real(z, i, flags, opsys, attr);
}
