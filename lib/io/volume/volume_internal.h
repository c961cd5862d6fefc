/* Volume geometry and the active mask of a volume dataset (NIfTI, or a memory dataset made
 * like one). Owned by the dataset (ds->volume); copied by btfm_dataset_from_array. */
#ifndef BTFM_IO_VOLUME_INTERNAL_H
#define BTFM_IO_VOLUME_INTERNAL_H

#include <btfm/volume.h>
#include "io/dataset_internal.h"

typedef struct btfm_volume {
    int64_t nx, ny, nz, nt;   /* grid and number of volumes */
    int64_t n_voxels;         /* nx * ny * nz */
    double affine[16];        /* row-major, the best affine (sform, qform, pixdim) */
    double zooms[4];          /* mm, mm, mm, s */
    /* What a writer needs to keep the source's header geometry exactly. */
    int qform_code, sform_code, xyz_units, time_units;
    double quatern[3], qoffset[3], qfac, srow[12], pixdim[8];
    /* The active mask: channel c reads voxel voxel[c] (voxel masks), or the mean of the
     * voxels v with label_of[v] == c (label masks; -1 outside every label). */
    int kind;                 /* btfm_mask_kind */
    int order;                /* btfm_voxel_order of voxel masks */
    int64_t n_mask;           /* channels of the mask: entries of voxel and label_count */
    int64_t *voxel;           /* n_channels (voxel masks) or label values (label masks) */
    int32_t *label_of;        /* n_voxels, label masks only */
    int64_t *label_count;     /* n_channels, label masks only */
} btfm_volume;

void btfm_volume_free(btfm_volume *v);
/* A deep copy (NULL in, NULL out). */
btfm_status btfm_volume_copy(btfm_volume **out, const btfm_volume *v);

/* Put the n voxels of `voxel` (distinct flat indices) in the volume's order. */
btfm_status btfm_volume_order_voxels(const btfm_volume *vol, int64_t *voxel, int64_t n);

/* Replace the dataset's channels by `n_channels` bold channels named from the mask
 * (voxel "x,y,z" or the label value); the volume's voxel/label arrays must be set. */
btfm_status btfm_volume_make_channels(btfm_dataset *ds, int n_channels);

/* Make `ds` (n_channels = nx * ny * nz, e.g. from btfm_dataset_from_array) a volume: a
 * grid of cubic `voxel_mm` voxels centred on the origin (RAS, sform and qform scanner
 * coordinates), every voxel in the mask in flat order, channels renamed "x,y,z" and typed
 * bold; written as NIfTI like a volume read from a file (volume.c). */
btfm_status btfm_volume_attach_grid(btfm_dataset *ds, int64_t nx, int64_t ny, int64_t nz,
                                    double voxel_mm);

/* Every voxel of volume `t` of a NIfTI dataset as physical values (n_voxels doubles). */
btfm_status btfm_nifti_read_volume(btfm_dataset *ds, int64_t t, double *out);
/* (Re)allocate the per-label scratch after the mask became a label mask. */
btfm_status btfm_nifti_label_scratch(btfm_dataset *ds);

/* Write a volume dataset's data (unmasked into its grid, 0 elsewhere) to `path` as a
 * float32 NIfTI-1 (.nii, or gzip-compressed for .nii.gz), atomically. */
btfm_status btfm_nifti_save(btfm_dataset *ds, const char *path);

/* The driver. BTFM_NIFTI_VALUES_ONLY (internal flag): build no channel table, for images
 * read with btfm_nifti_read_volume only. */
#define BTFM_NIFTI_VALUES_ONLY 0x80000000u
btfm_status btfm_nifti_open(btfm_dataset **out, const char *path, unsigned flags);

/* The checks made on a NIfTI header before nifticlib sees it (also the fuzz target):
 * `buf` holds the first `n` bytes of the header file, `file_size` its size when known
 * (-1 for compressed files). Fills the fields a reader needs. */
typedef struct btfm_nifti_header {
    int version;              /* 1 or 2 */
    int swapped;              /* stored in the other byte order */
    int single_file;          /* n+1 / n+2 (else ni1 / ni2: .hdr + .img) */
    int64_t dim[8];
    int datatype, bitpix;
    double vox_offset, scl_slope, scl_inter;
} btfm_nifti_header;

/* Bytes per voxel of a NIfTI datatype code read here; 0 for the others. */
int btfm_nifti_datatype_size(int datatype);

btfm_status btfm_nifti_check_header(const unsigned char *buf, size_t n, int64_t file_size,
                                    const char *path, btfm_nifti_header *h);

#endif
