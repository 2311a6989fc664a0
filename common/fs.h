/* fs.h - file system helpers that never follow links they did not make.
 *
 * A path built by fs_join or spool_path is NULL when memory ran out;
 * every function here takes such a NULL as that failure (an error "out
 * of memory", false, or nothing listed), never as a path, so a caller
 * may hand a built path on without checking it first. */
#ifndef ASSAY_FS_H
#define ASSAY_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"

/* How deep below a root the walks and copies go (directories), and so
 * how deep a submission may be: deeper trees are refused, never cut. */
#define FS_MAX_DEPTH 64

/* True for a relative path of plain names: not empty, not absolute, no
 * "." or ".." component, no empty component, no control characters. */
bool fs_relpath_is_safe(const char *rel);

int fs_mkdir_p(const char *path, mode_t mode, struct err *e);
/* fs_mkdir_p for a spool: every directory it makes is synced into its
 * parent, so a name made below it later can survive a power cut. */
int fs_mkdir_p_durable(const char *path, mode_t mode, struct err *e);
/* Creates a fresh private directory BASE/PREFIX-XXXXXX; *out is malloc'd. */
int fs_mkdtemp(const char *base, const char *prefix, char **out, struct err *e);
/* Removes a tree (or a file) without following symlinks, at any depth
 * and path length, staying on PATH's file system; missing is not an
 * error.  What can be removed is, even when something cannot; the error
 * then names the first entry that stayed. */
int fs_remove_tree(const char *path, struct err *e);
/* The same for everything inside directory PATH, which stays. */
int fs_empty_dir(const char *path, struct err *e);

/* Reads a regular file (never through a symlink) of at most max bytes. */
int fs_read_file(const char *path, size_t max, struct buf *out, struct err *e);
/* Reads REL below DIRFD: no symlinks, no "..", regular files only, at most
 * max bytes.  For files that untrusted code may have planted. */
int fs_read_beneath(int dirfd, const char *rel, size_t max, struct buf *out,
                    struct err *e);
/* Writes a whole file: a temporary beside it, fsync, rename. */
int fs_write_atomic(const char *path, const void *data, size_t len,
                    struct err *e);
/* Writes a whole file over what it held (no rename; a reader may see it
 * half written): for a private scratch directory, or a file whose readers
 * cope.  An fsync only if DURABLE (for a directory that is renamed into
 * place later). */
int fs_write_file(const char *path, const void *data, size_t len, bool durable,
                  struct err *e);
/* Durability of names.  A rename, link or mkdir changes a directory, and
 * until that directory is fsynced a power cut may undo it even though the
 * file itself was synced.  Whatever makes a state visible (a job queued,
 * a result recorded) syncs the directories it changed with these before
 * anyone is told. */
/* fsyncs directory DIR: the names made or removed in it so far survive a
 * power cut once it returns 0. */
int fs_sync_dir(const char *dir, struct err *e);
/* fsyncs the directory holding PATH: after PATH was made by rename, link
 * or mkdir. */
int fs_sync_parent(const char *path, struct err *e);
/* After a rename FROM -> TO that succeeded: syncs TO's directory, then
 * FROM's when it is another, so that after a power cut the file is found
 * under its new name and not also under its old one. */
int fs_sync_rename(const char *from, const char *to, struct err *e);
/* fsyncs every regular file below ROOT and ROOT itself: a tree written in
 * scratch space, before it is renamed into place. */
int fs_sync_tree(const char *root, struct err *e);

/* Copies one regular file (src not followed if a symlink). */
int fs_copy_file(const char *src, const char *dst, mode_t mode, struct err *e);
/* Copies everything in the open file IN (from its start; SRC names it in
 * messages) to DST, created as for fs_copy_file. */
int fs_copy_fd(int in, const char *src, const char *dst, mode_t mode, struct err *e);
/* Copies regular files and directories of SRC into DST (created); symlinks
 * and special files are skipped.  Returns the number of files copied. */
int fs_copy_tree(const char *src, const char *dst, struct err *e);

/* Calls fn for every regular file below ROOT with its path relative to
 * ROOT, in sorted order; symlinks and special files are not reported. */
typedef int (*fs_walk_fn)(const char *rel, off_t size, void *arg);
int fs_walk_files(const char *root, fs_walk_fn fn, void *arg, struct err *e);

/* The entries of a directory (fs_list): those the filter kept, and the
 * others that are not hidden (".NAME"). */
struct fs_list {
    char **names;
    size_t n;
    char **others;
    size_t n_others;
};
/* Lists DIR: each entry but "." and ".." that KEEP accepts goes to
 * names (sorted by CMP unless it is NULL), the rest to others.  A
 * directory that does not exist lists nothing; -1 only when memory ran
 * out (what was listed so far is kept). */
int fs_list(const char *dir, bool (*keep)(const char *name),
            int (*cmp)(const void *a, const void *b), struct fs_list *out);
void fs_list_free(struct fs_list *l);
/* A qsort comparison of two names (char **) in strcmp order. */
int fs_cmp_names(const void *a, const void *b);

/* Reads a secret (a token, a webhook secret) from PATH: a regular file,
 * not a link, owned by this user or root, readable by nobody else (mode
 * 0600 or 0400), its first line (not empty).  malloc'd, to be freed
 * with fs_free_secret; NULL with a sentence naming the file (WHAT says
 * what it holds: "GitHub token") and the fix, never the secret. */
char *fs_read_secret(const char *path, const char *what, struct err *e);
/* Wipes and frees a secret. */
void fs_free_secret(char *secret);

bool fs_exists(const char *path);
bool fs_is_dir(const char *path);

/* malloc'd "a/b" join; NULL if memory ran out or A or B is NULL. */
char *fs_join(const char *a, const char *b);

/* malloc'd: the directory of the running program (where its sibling
 * programs, assay-shipper and assay-worker, are installed); NULL if
 * memory ran out. */
char *fs_program_dir(void);

#endif
