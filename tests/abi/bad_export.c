/* A deliberately bad library for the export check: helper_leak is exported without the
 * btfm_ prefix, as happens when a helper loses its `static` and the map lists it. */
#include "bad_export.h"

int btfm_ok(void) { return helper_leak(); }
int helper_leak(void) { return 0; }
