/* hooks_payload.h - the checked fields of a forge's push payload: each
 * returns the string of V when it has the form the forge gives it (so it
 * is safe in a log line and a path), else NULL. */
#ifndef ASSAY_HOOKS_PAYLOAD_H
#define ASSAY_HOOKS_PAYLOAD_H

#include <jansson.h>

/* "owner/name" (GitLab: "group/sub/name"): letters, digits, . _ - and
 * '/', no empty part, no part "." or "..", at most 255 bytes. */
const char *payload_repo_name(const json_t *v);
/* A commit id: 40 or 64 hex digits. */
const char *payload_sha(const json_t *v);
/* A ref or a name: printable ASCII without spaces, at most 255 bytes. */
const char *payload_ref(const json_t *v);

#endif
