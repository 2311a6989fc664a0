/* proctitle.h - what a process shows as its command line (ps, /proc). */
#ifndef ASSAY_PROCTITLE_H
#define ASSAY_PROCTITLE_H

/* Remembers the memory of ARGV's strings, which later titles reuse.
 * Call first thing in main. */
void proctitle_init(int argc, char **argv);

/* Shows WORDS (NULL-terminated) as the command line, as many whole words
 * as fit where the original arguments were; ARGV's strings are
 * overwritten, so copy what is still needed first. */
void proctitle_set(const char *const *words);

#endif
