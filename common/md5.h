/* md5.h - MD5 digests (RFC 1321), for nbgrader's cell checksums only. */
#ifndef ASSAY_MD5_H
#define ASSAY_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5 {
    uint32_t state[4];
    uint64_t length;            /* bytes hashed so far */
    unsigned char block[64];
};

void md5_init(struct md5 *m);
void md5_update(struct md5 *m, const void *data, size_t len);
/* Finishes the digest and writes it as 32 lowercase hex digits + NUL. */
void md5_hex(struct md5 *m, char out[33]);

#endif
