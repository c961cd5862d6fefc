/* A deliberately incompatible libbtfm for the abi-compat check: btfm_container_count
 * returns int64_t and takes an extra argument, unlike in the baseline. It defines only
 * that one function; incompatible.suppr hides the absence of all the others, so the
 * check has to catch the changed signature itself. */
#include <stdint.h>

typedef struct btfm_container btfm_container;

__attribute__((visibility("default")))
int64_t btfm_container_count(const btfm_container *c, int flags);

int64_t btfm_container_count(const btfm_container *c, int flags)
{
    return c ? flags : -1;
}
