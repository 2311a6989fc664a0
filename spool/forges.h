/* forges.h - GitHub and GitLab as seen from the spool: the installation's
 * forges.json (webhook secret, API token, API address, archive limit,
 * result link) and which course, assignment and student a repository is
 * (each course's course.json "git" block).  docs/SPOOL.md, "forges.json"
 * and "course.json"; docs/INTEGRATIONS.md. */
#ifndef ASSAY_FORGES_H
#define ASSAY_FORGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "spool/spool.h"

#define FORGES_FILE "forges.json"

struct forge_config {
    char api_url[512];          /* "https://api.github.com", no trailing '/' */
    char secret_file[1024];     /* the webhook secret (GitHub) or token (GitLab) */
    char token_file[1024];      /* the API token: archives and statuses */
    char result_url[1024];      /* a result page's address, with {job} {course}
                                 * {assignment} {student} {version}; "" none */
    uint64_t max_archive_bytes; /* a commit's archive, as downloaded */
};

/* Reads FORGE's ("github", "gitlab") block of S's forges.json.  0; 1
 * when the file or the block is absent (the forge is not set up); -1
 * with *e naming the file, the field and the fix.  Relative file names
 * are made absolute from the spool's root. */
int forge_config_load(const struct spool *s, const char *forge, struct forge_config *c,
                      struct err *e);

/* Which course, assignment and student a repository is. */
struct repo_owner {
    char course[65], assignment[65], student[65];
};
/* Looks FULL_NAME ("org/hw1-alice"; GitLab's "group/sub/hw1-alice") up
 * in every course's "git" block: its "repositories" first, then Classroom
 * naming for the course's FORGE organization or group: ASSIGNMENT-USER,
 * ASSIGNMENT an assignment of the course (or a key of "assignments") and
 * USER a student (through "students", else as is).  0 mapped; 1 not
 * (WHY says, N bytes); -1 with *e. */
int forge_map_repo(const struct spool *s, const char *forge, const char *full_name,
                   struct repo_owner *out, char *why, size_t n, struct err *e);

/* Checks a course.json "git" block (at WHERE in FILE): every problem to P. */
void forge_check_git_block(const json_t *git, const char *where, struct problems *p);

/* The result page's address for RESULT_URL's template (NULL when it is
 * ""); malloc'd. */
char *forge_result_url(const char *tmpl, const char *job, const char *course,
                       const char *assignment, const char *student, long long version);

#endif
