/* Built instead of the SNIRF driver when HDF5 is absent (-Dsnirf=disabled): SNIRF files
 * are refused with a message naming the missing feature. */
#include "io/dataset_internal.h"

btfm_status btfm_snirf_open(btfm_dataset **out, const char *path, unsigned flags)
{
    (void)flags;
    *out = NULL;
    return btfm_fail(BTFM_E_UNSUPPORTED, "snirf: %s: reading SNIRF files needs HDF5, and this "
                     "libbtfm was built without its 'snirf' feature (libhdf5-dev, "
                     "meson -Dsnirf=enabled)", path);
}
