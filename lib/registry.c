/* What this build contains: the parameter table of every object kind and the list of
 * capabilities. Each layer registers here; core itself knows none of them. */
#include <stdio.h>
#include <string.h>
#include "core/param.h"
#include <btfm/version.h>

/* The parameter table of each object kind, defined next to the handle it belongs to;
 * one line a kind, in the order of btfm_object_kind. */
extern const btfm_param_table btfm_container_param_table;
extern const btfm_param_table btfm_dataset_param_table;
extern const btfm_param_table btfm_aligner_param_table;
extern const btfm_param_table btfm_cothb_param_table;
extern const btfm_param_table btfm_cothb_tuner_param_table;
extern const btfm_param_table btfm_model_param_table;
extern const btfm_param_table btfm_reward_head_param_table;
extern const btfm_param_table btfm_reward_features_param_table;
extern const btfm_param_table btfm_stream_param_table;
extern const btfm_param_table btfm_sim_rating_param_table;
extern const btfm_param_table btfm_sim_shared_param_table;
extern const btfm_param_table btfm_epochs_plan_param_table;
extern const btfm_param_table btfm_welch_plan_param_table;
extern const btfm_param_table btfm_design_plan_param_table;
extern const btfm_param_table btfm_clean_plan_param_table;
extern const btfm_param_table btfm_corpus_param_table;
extern const btfm_param_table btfm_loader_param_table;

/* Looked up by kind. Numbers are reserved per layer (include/btfm/param.h), so a build
 * may skip some: bindings ask btfm_object_kind_name for every number from 1 to 255. */
static const btfm_param_table *const tables[] = {
    &btfm_container_param_table,
    &btfm_dataset_param_table,
    &btfm_aligner_param_table,
    &btfm_cothb_param_table,
    &btfm_model_param_table,
    &btfm_reward_head_param_table,
    &btfm_sim_rating_param_table,
    &btfm_sim_shared_param_table,
    &btfm_corpus_param_table,
    &btfm_loader_param_table,
    &btfm_epochs_plan_param_table,
    &btfm_welch_plan_param_table,
    &btfm_design_plan_param_table,
    &btfm_clean_plan_param_table,
    &btfm_cothb_tuner_param_table,
    &btfm_reward_features_param_table,
    &btfm_stream_param_table,
};
#define TABLE_COUNT ((int)(sizeof tables / sizeof tables[0]))

#ifdef BTFM_HAVE_NIFTI
#  define BTFM_CAP_NIFTI " nifti"
#else
#  define BTFM_CAP_NIFTI ""
#endif
#ifdef BTFM_HAVE_ISAL
#  define BTFM_CAP_ISAL " isal"
#else
#  define BTFM_CAP_ISAL ""
#endif
#ifdef BTFM_HAVE_HDF5
#  define BTFM_CAP_HDF5 " snirf hdf5"
#else
#  define BTFM_CAP_HDF5 ""
#endif
#ifdef BTFM_HAVE_MPI
#  define BTFM_CAP_MPI " mpi"
#else
#  define BTFM_CAP_MPI ""
#endif
/* One line a layer, in dependency order, each starting with the layer's name (its folder
 * under lib/), then what it offers. */
static const char capabilities[] =
    "core container zlib progress"
    " dense"
    " io dataset edf bdf brainvision volume" BTFM_CAP_NIFTI BTFM_CAP_ISAL " fif eeglab eyelink physio" BTFM_CAP_HDF5
    " table bids"
    " signal"
    " spectrum"
    " fmri glm"
    " sim"
    " align"
    " model"
    " reward"
    " cothb"
    " stream"
    " corpus loader"
    BTFM_CAP_MPI;

const btfm_param_table *btfm_param_table_of(int kind)
{
    for (int i = 0; i < TABLE_COUNT; i++)
        if (tables[i]->kind == kind) return tables[i];
    return NULL;
}

const char *btfm_object_kind_name(int kind)
{
    const btfm_param_table *t = btfm_param_table_of(kind);
    return t ? t->kind_name : NULL;
}

static btfm_status unknown_kind(const char *func, int kind)
{
    return btfm_fail(BTFM_E_INVALID, "%s: unknown object kind %d (known kinds are numbered "
                     "from 1; see btfm_object_kind_name)", func, kind);
}

static int n_params(int kind, const char *func)
{
    const btfm_param_table *t = btfm_param_table_of(kind);
    return t ? t->count : unknown_kind(func, kind);
}

int btfm_object_n_params(int kind) { return n_params(kind, "btfm_object_n_params"); }

int btfm_param_count(int kind) { return n_params(kind, "btfm_param_count"); }

btfm_status btfm_param_info(int kind, int param, const char **name, int *type,
                            double *default_value, double *min_value, double *max_value)
{
    const btfm_param_table *t = btfm_param_table_of(kind);
    if (!t) return unknown_kind("btfm_param_info", kind);
    if (param < 0 || param >= t->count)
        return btfm_fail(BTFM_E_INVALID, "btfm_param_info: %s has no parameter %d (it has %d)",
                         t->kind_name, param, t->count);
    const btfm_param_def *d = &t->defs[param];
    if (name) *name = d->name;
    if (type) *type = d->type;
    if (default_value) *default_value = d->default_value;
    if (min_value) *min_value = d->min_value;
    if (max_value) *max_value = d->max_value;
    return BTFM_OK;
}

const char *btfm_param_description(int kind, int param)
{
    const btfm_param_table *t = btfm_param_table_of(kind);
    if (!t || param < 0 || param >= t->count) return NULL;
    return t->defs[param].description;
}

btfm_status btfm_param_find(int kind, const char *name, int *param)
{
    BTFM_CHECK_ARG(name, "btfm_param_find", "name");
    BTFM_CHECK_ARG(param, "btfm_param_find", "param");
    const btfm_param_table *t = btfm_param_table_of(kind);
    if (!t) return unknown_kind("btfm_param_find", kind);
    char known[512] = "";
    size_t used = 0;
    for (int i = 0; i < t->count; i++) {
        if (strcmp(t->defs[i].name, name) == 0) {
            *param = i;
            return BTFM_OK;
        }
        int n = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                         t->defs[i].name);
        if (n > 0 && (size_t)n < sizeof known - used) used += (size_t)n;
    }
    return btfm_fail(BTFM_E_NOTFOUND, "btfm_param_find: %s has no parameter \"%s\"; "
                     "its parameters are: %s", t->kind_name, name, known);
}

const char *btfm_capabilities(void) { return capabilities; }

int btfm_has_capability(const char *name)
{
    if (!name || !*name) return 0;
    size_t n = strlen(name);
    for (const char *p = capabilities; (p = strstr(p, name)) != NULL; p += n) {
        int starts = p == capabilities || p[-1] == ' ';
        int ends = p[n] == '\0' || p[n] == ' ';
        if (starts && ends) return 1;
    }
    return 0;
}
