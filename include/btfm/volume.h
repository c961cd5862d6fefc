/* Volumes: fMRI datasets from NIfTI-1/NIfTI-2 files (.nii, .nii.gz, .hdr/.img). A volume
 * dataset presents the usual n_times x n_channels matrix, where the channels are the
 * voxels of the active mask (all voxels by default) or, with an atlas, one channel per
 * label; sfreq is 1/TR. These functions give the geometry and choose the mask.
 * Conventions: doc/volumes.md. */
#ifndef BTFM_VOLUME_H
#define BTFM_VOLUME_H

#include <stdint.h>
#include "dataset.h"
#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the channels of a volume dataset were chosen. Numbers are never reused. */
typedef enum btfm_mask_kind {
    BTFM_MASK_ALL = 0,        /* every voxel (the default after opening) */
    BTFM_MASK_IMAGE = 1,      /* the non-zero voxels of a mask image */
    BTFM_MASK_VOXELS = 2,     /* a mask given in memory */
    BTFM_MASK_THRESHOLD = 3,  /* voxels whose mean over time is above a threshold */
    BTFM_MASK_BACKGROUND = 4, /* voxels whose mean differs from the border's median
                                 (nilearn's "background" strategy) */
    BTFM_MASK_EPI = 5,        /* the histogram-gap rule, opening and largest connected
                                 component (nilearn's "epi" strategy) */
    BTFM_MASK_LABELS = 6,     /* one channel per atlas label: the mean of its voxels */
    BTFM_MASK_KIND_MAX_ = 0x7fffffff
} btfm_mask_kind;

/* The order of the channels of a voxel mask: which voxel is channel 0, 1, 2, ... Numbers
 * are never reused. With data[x, y, z] the grid as nibabel indexes it: */
typedef enum btfm_voxel_order {
    BTFM_VOXEL_ORDER_F = 0, /* x fastest: flat index x + nx * (y + ny * z), the order of
                               the file (numpy's order="F"); the default */
    BTFM_VOXEL_ORDER_C = 1, /* z fastest: the order of nibabel's img.get_fdata()[mask]
                               and of nilearn's maskers (numpy's order="C") */
    BTFM_VOXEL_ORDER_MAX_ = 0x7fffffff
} btfm_voxel_order;

/* Name of a voxel order ("F", "C"); NULL when unknown. */
BTFM_API const char *btfm_voxel_order_name(int order);

/* Put the channels of the voxel mask in force, and of every mask chosen later, in `order`
 * (btfm_voxel_order); the channel names, btfm_dataset_channel_voxels and reads follow.
 * Label masks keep increasing label order. BTFM_E_UNSUPPORTED for datasets that are not
 * NIfTI files; BTFM_E_INVALID for an unknown order (the dataset unchanged). */
BTFM_API btfm_status btfm_dataset_set_voxel_order(btfm_dataset *ds, int order);

/* The voxel order in force (btfm_voxel_order), or a negative status. */
BTFM_API int btfm_dataset_voxel_order(const btfm_dataset *ds);

/* Name of a mask kind ("epi"); NULL when unknown. */
BTFM_API const char *btfm_mask_kind_name(int kind);

/* Grid size (nx, ny, nz) and number of volumes (nt), 4 values, of a volume dataset (also of a
 * dataset made by btfm_dataset_from_array with a volume `like`); BTFM_E_UNSUPPORTED
 * for datasets that are not volumes. */
BTFM_API btfm_status btfm_dataset_volume_shape(const btfm_dataset *ds, int64_t *shape);

/* The 4x4 voxel-to-world affine, 16 values row-major: the sform when its code is set, else the
 * qform, else one built from the voxel sizes (the rule nibabel uses). */
BTFM_API btfm_status btfm_dataset_volume_affine(const btfm_dataset *ds, double *affine);

/* Voxel sizes in mm and the repetition time in seconds, 4 values (pixdim[1..4] converted with
 * xyzt_units; TR 0 when the file stores none). */
BTFM_API btfm_status btfm_dataset_volume_zooms(const btfm_dataset *ds, double *zooms);

/* The mask kind in force (btfm_mask_kind), or a negative status. */
BTFM_API int btfm_dataset_mask_kind(const btfm_dataset *ds);

/* For voxel masks: the flat voxel index (x + nx * (y + ny * z)) of every channel, into
 * `out` (n_channels values). For label masks: the label value of every channel. */
BTFM_API btfm_status btfm_dataset_channel_voxels(const btfm_dataset *ds, int64_t *out);

/* Use the non-zero voxels of the mask image at `path` (3D, or 4D with one volume). Its
 * grid must be the dataset's and its affine equal within 1e-4 mm; otherwise
 * BTFM_E_INVALID with both shapes or both affines in the message. */
BTFM_API btfm_status btfm_dataset_mask_image(btfm_dataset *ds, const char *path);

/* Use the voxels where mask[v] != 0, v the flat voxel index (nx * ny * nz values). */
BTFM_API btfm_status btfm_dataset_mask_voxels(btfm_dataset *ds, const uint8_t *mask,
                                              int64_t n_voxels);

/* Compute a mask from the data: BTFM_MASK_ALL (back to every voxel), THRESHOLD (mean over
 * time > `threshold`), BACKGROUND or EPI (nilearn's defaults; `threshold` unused). Reads
 * every volume once for the mean. An empty result is refused (BTFM_E_INVALID). */
BTFM_API btfm_status btfm_dataset_mask_compute(btfm_dataset *ds, int kind, double threshold);

/* One channel per non-zero label of the atlas image at `path` (same geometry rule as
 * btfm_dataset_mask_image), in increasing label order, named by the label value; each
 * channel is the mean over the label's voxels, like nilearn's NiftiLabelsMasker. */
BTFM_API btfm_status btfm_dataset_mask_labels(btfm_dataset *ds, const char *path);

#ifdef __cplusplus
}
#endif

#endif
