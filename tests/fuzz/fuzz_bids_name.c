/* Fuzz target: the BIDS file-name parser (entities, suffix, extension) and the query
 * syntax. Whatever is refused must say why and leave nothing allocated; whatever is
 * accepted must hold the invariants the index relies on. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "bids/bids_internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int alnum_text(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s)) return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 4096) return 0;
    char *name = malloc(size + 1);
    if (!name) return 0;
    memcpy(name, data, size);
    name[size] = '\0';
    btfm_bids_name n;
    if (btfm_bids_name_parse(&n, name, "fuzz") != BTFM_OK) {
        if (btfm_last_error()[0] == '\0' || n.entities || n.suffix || n.n_entities) abort();
    } else {
        if (!n.suffix || !n.extension || !alnum_text(n.suffix)) abort();
        if (n.extension[0] && n.extension[0] != '.') abort();
        for (int i = 0; i < n.n_entities; i++) {
            const btfm_bids_entity *e = &n.entities[i];
            if (!alnum_text(e->key) || !alnum_text(e->value)) abort();
            if (btfm_bids_name_get(&n, e->key) != e->value) abort(); /* keys unique */
            if (btfm_bids_is_index_entity(e->key) && !btfm_bids_label_equal(e->key, e->value, e->value))
                abort();
        }
        btfm_bids_name_clear(&n);
    }
    free(name);
    return 0;
}
