/* Run-time version of the loaded library. */
#include "internal.h"
#include <btfm/version.h>

unsigned btfm_version_number(void) { return BTFM_VERSION_NUMBER; }

const char *btfm_version_string(void) { return BTFM_VERSION_STRING; }
