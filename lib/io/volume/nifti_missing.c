/* Built instead of nifti.c when nifticlib is absent (-Dnifti=disabled): NIfTI files are
 * refused with a message saying so; volumes made in memory still work and save. */
#include "volume_internal.h"

btfm_status btfm_nifti_open(btfm_dataset **out, const char *path, unsigned flags)
{
    (void)flags;
    *out = NULL;
    return btfm_fail(BTFM_E_UNSUPPORTED, "nifti: %s: this libbtfm was built without nifticlib", path);
}

btfm_status btfm_nifti_read_volume(btfm_dataset *ds, int64_t t, double *out)
{
    (void)t;
    (void)out;
    return btfm_fail(BTFM_E_UNSUPPORTED, "nifti: %s: built without nifticlib", ds->path);
}

btfm_status btfm_nifti_label_scratch(btfm_dataset *ds)
{
    return btfm_fail(BTFM_E_UNSUPPORTED, "nifti: %s: built without nifticlib", ds->path);
}
