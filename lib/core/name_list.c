/* Lists of names inside messages ("known: a, b, c"), shortened to fit the message. */
#include <stdio.h>
#include <string.h>
#include "internal.h"

enum { MAX_LISTED = 64 };

void btfm_name_list(char *out, size_t cap, int64_t n,
                    const char *(*name_at)(const void *ctx, int64_t i), const void *ctx)
{
    if (cap == 0) return;
    out[0] = '\0';
    const char *listed[MAX_LISTED];
    int n_listed = 0, full = 0;
    size_t used = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *name = name_at(ctx, i);
        if (!name || !*name) continue; /* an empty name says nothing */
        int seen = 0; /* against the listed names only: bounded work for any n */
        for (int j = 0; j < n_listed && !seen; j++) seen = strcmp(listed[j], name) == 0;
        if (seen) continue;
        size_t need = strlen(name) + (used ? 2 : 0);
        if (full || n_listed == MAX_LISTED || used + need + 6 >= cap) {
            full = 1;
            if (used + 6 < cap) snprintf(out + used, cap - used, ", ...");
            return;
        }
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
        listed[n_listed++] = name;
    }
}
