/* nbgrader.c - libFuzzer target for engine/nbgrader.c: a student's
 * notebook merged against the instructor's source, as the notebook kind
 * grades one, and the source checked and released, as `assay notebook`
 * does.  The input is SOURCE, a NUL byte, then SUBMISSION (JSON holds no
 * raw NUL); without a NUL the input is both.  Every cell also goes
 * through the helpers the merge and the release use (source, role,
 * points, hidden-test removal, checksum), and the merged cells are
 * rendered as the student's HTML feedback page (engine/kinds/notebook_html.c).
 *   build-fuzz/fuzz/nbgrader tests/fuzz/corpus/nbgrader   (make fuzz runs it) */
#include <string.h>

#include "engine/kinds/notebook_html.h"
#include "engine/nbgrader.h"
#include "tests/fuzz/fuzz.h"

static void each_cell(const json_t *nb)
{
    size_t i;
    json_t *cell;
    json_array_foreach(json_object_get(nb, "cells"), i, cell) {
        char sum[33], *src = nb_source(cell);
        bool hidden;
        free(nb_visible_source(src, &hidden));
        free(src);
        (void)nb_cell_type(cell);   /* reached for what it reads, not what it returns */
        (void)nb_grade_id(cell);
        (void)nb_role_name(nb_role(cell));
        (void)nb_points(cell);
        (void)nb_checksum(cell, sum);
    }
}

static void source_side(const json_t *src)
{
    struct problems p = {0};
    nb_check_source(src, "source.ipynb", &p);
    problems_free(&p);
    (void)nb_test_points(src);
    json_t *rel = nb_release(src, NULL);
    each_cell(rel);
    json_decref(rel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    const char *text = (const char *)data, *nul = memchr(data, 0, len);
    size_t src_len = nul ? (size_t)(nul - text) : len;
    const char *sub_text = nul ? nul + 1 : text;
    size_t sub_len = nul ? len - src_len - 1 : len;
    struct err e;
    json_t *src = nb_parse(text, src_len, "source.ipynb", &e);
    json_t *sub = nb_parse(sub_text, sub_len, "submission.ipynb", &e);
    if (src) {
        each_cell(src);
        source_side(src);
    }
    if (src && sub) {
        json_t *problems = json_array();
        if (!problems)
            fuzz_die("out of memory", NULL);
        json_t *plan = nb_merge(src, sub, problems);
        if (plan)
            free(notebook_html("submission.ipynb", plan, problems, 1, 2, 0));
        json_decref(plan);
        json_decref(problems);
    }
    json_decref(src);
    json_decref(sub);
    return 0;
}
