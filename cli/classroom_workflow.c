/*
 * classroom_workflow.c - the tests of a GitHub Classroom workflow,
 * .github/workflows/classroom.yml, as Classroom writes it today: one step
 * per test, `uses: classroom-resources/autograding-io-grader@v1`
 * (-command-grader, -python-grader; education/… too), with the grader's
 * inputs under `with:`.  Read with libyaml's document API; every step
 * that uses one of the three graders becomes one JSON object
 * {"grader": "io"|"command"|"python", "with": {input: text, ...}, "step":
 * its name}, in order, for cmd_import.c to turn into Assay tests.  Other
 * steps (checkout, the reporter, setup-python) are skipped.
 */
#include "cli/classroom.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "common/fs.h"

#define WORKFLOW_MAX_BYTES (1u << 20)

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* "io", "command", "python" for a step's `uses`, or NULL. */
static const char *grader_of(const char *uses)
{
    static const char *const names[] = {"io", "command", "python"};
    static const char *const owners[] = {"classroom-resources/", "education/"};
    for (int o = 0; uses && o < 2; o++)
        for (int i = 0; i < 3; i++) {
            char want[100];
            snprintf(want, sizeof want, "%sautograding-%s-grader@", owners[o], names[i]);
            if (!strncmp(uses, want, strlen(want)))
                return names[i];
        }
    return NULL;
}

/* The step's `with:` inputs as a JSON object of strings. */
static json_t *step_inputs(yaml_document_t *d, yaml_node_t *with, const char *where,
                           struct problems *p)
{
    json_t *out = json_object();
    if (!with || !out)
        return out;
    if (with->type != YAML_MAPPING_NODE) {
        problems_add(p, where, "\"with\" must be a mapping of the grader's inputs");
        return out;
    }
    for (yaml_node_pair_t *pr = with->data.mapping.pairs.start; pr < with->data.mapping.pairs.top;
         pr++) {
        const char *k = scalar(yaml_document_get_node(d, pr->key));
        const char *v = scalar(yaml_document_get_node(d, pr->value));
        if (!k || !v)
            problems_add(p, where, "the input \"%s\" must be a plain value", k ? k : "?");
        else if (json_object_set_new(out, k, json_string(v)) < 0)
            problems_add(p, where, "the input \"%s\" is not UTF-8 text", k);
    }
    return out;
}

/* The grader steps of every job, in order. */
static json_t *grader_steps(yaml_document_t *d, struct problems *p)
{
    json_t *out = json_array();
    yaml_node_t *jobs = map_get(d, yaml_document_get_root_node(d), "jobs");
    if (!jobs || jobs->type != YAML_MAPPING_NODE) {
        problems_add(p, "jobs", "missing: a Classroom workflow has its tests under jobs");
        return out;
    }
    for (yaml_node_pair_t *jp = jobs->data.mapping.pairs.start; jp < jobs->data.mapping.pairs.top;
         jp++) {
        yaml_node_t *steps = map_get(d, yaml_document_get_node(d, jp->value), "steps");
        if (!steps || steps->type != YAML_SEQUENCE_NODE)
            continue;
        size_t i = 0;
        for (yaml_node_item_t *it = steps->data.sequence.items.start;
             it < steps->data.sequence.items.top; it++, i++) {
            yaml_node_t *step = yaml_document_get_node(d, *it);
            const char *grader = grader_of(scalar(map_get(d, step, "uses")));
            if (!grader)
                continue;
            char where[200];
            snprintf(where, sizeof where, "jobs.%s.steps[%zu]",
                     scalar(yaml_document_get_node(d, jp->key)), i);
            const char *name = scalar(map_get(d, step, "name"));
            json_t *s = json_pack("{s:s, s:s, s:s?, s:o}", "grader", grader, "where", where,
                                  "step", name, "with",
                                  step_inputs(d, map_get(d, step, "with"), where, p));
            if (!s || json_array_append_new(out, s) < 0)
                problems_add(p, where, "out of memory");
        }
    }
    return out;
}

json_t *classroom_workflow_load(const char *path, struct problems *p, struct err *e)
{
    struct buf text = BUF_INIT;
    if (fs_read_file(path, WORKFLOW_MAX_BYTES, &text, e) < 0)
        return NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    json_t *out = NULL;
    if (!yaml_parser_initialize(&parser)) {
        err_set(e, "out of memory");
    } else {
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf_str(&text), text.len);
        if (!yaml_parser_load(&parser, &doc)) {
            err_set(e, "%s:%zu:%zu: not YAML: %s", path, parser.problem_mark.line + 1,
                    parser.problem_mark.column + 1, parser.problem ? parser.problem : "?");
        } else {
            if (!yaml_document_get_root_node(&doc))
                err_set(e, "%s is empty", path);
            else
                out = grader_steps(&doc, p);
            yaml_document_delete(&doc);
        }
        yaml_parser_delete(&parser);
    }
    buf_free(&text);
    return out;
}
