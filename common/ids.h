/* ids.h - random tokens and job ids. */
#ifndef ASSAY_IDS_H
#define ASSAY_IDS_H

#include <stddef.h>

/* NBYTES random bytes as 2*NBYTES hex digits (OUT holds 2*NBYTES+1). */
void ids_random_hex(char *out, size_t nbytes);
/* "20261122T101502.123Z-7f3a9c": sortable by time, unique by chance. */
void ids_job_id(char out[40]);

#endif
