/* A deliberately bad library for the export check: btfm_unlisted is exported although
 * unlisted.map does not name it (the map forgets the `local: *;` catch-all). */
#include "bad_export.h"

int btfm_ok(void) { return 0; }
int btfm_unlisted(void) { return 1; }
