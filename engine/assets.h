/* assets.h - helper scripts built into the binary (from engine/python/). */
#ifndef ASSAY_ASSETS_H
#define ASSAY_ASSETS_H

extern const char asset_pytest_runner[];
extern const char asset_doctest_runner[];
extern const char asset_notebook_runner[];
extern const char asset_autotest_expand[];   /* run by `assay notebook release`, not in a sandbox */
extern const char asset_property_runner[];
extern const char asset_mutate[];       /* the mutants of `assay audit` (cli/cmd_audit.c) */
extern const char asset_kit_check[];    /* the runner of `assay kit` (cli/cmd_kit.c) */

#endif
