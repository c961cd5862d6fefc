/* Functional near-infrared spectroscopy: the source-detector geometry of fNIRS channels
 * (read from SNIRF files or set by the host) and the processing from light intensity to
 * haemoglobin concentrations. Equations and conventions: doc/fnirs.md. */
#ifndef BTFM_FNIRS_H
#define BTFM_FNIRS_H

#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "status.h"
#include "dataset.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- channel geometry (since 1.3) ---- */

/* The measurement behind fNIRS channel `channel`: source and detector numbers (1-based,
 * as in the file), wavelength in nm (NaN for haemoglobin channels), and the source and
 * detector positions in metres in the dataset's coordinate frame (3 doubles each; NaN
 * when the file has none). Any output may be NULL. BTFM_E_NOTFOUND for a channel that is
 * not an fNIRS measurement (an aux channel, an EEG channel). */
BTFM_API btfm_status btfm_dataset_nirs_channel(const btfm_dataset *ds, int channel, int *source,
                                               int *detector, double *wavelength_nm,
                                               double *source_xyz, double *detector_xyz);

/* Describe channel `channel` as an fNIRS measurement (source, detector >= 1; wavelength
 * in nm, or NaN for haemoglobin channels; positions in metres, NULL when unknown). The
 * channel's position becomes the midpoint of source and detector, as MNE stores it. */
BTFM_API btfm_status btfm_dataset_set_nirs_channel(btfm_dataset *ds, int channel, int source,
                                                   int detector, double wavelength_nm,
                                                   const double *source_xyz,
                                                   const double *detector_xyz);

#ifdef __cplusplus
}
#endif

#endif
