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

/* ---- processing on time-major arrays (since 1.3) ----
 * Arrays are n_times x n_channels floats, C order; computations are in double. Flags are
 * those of include/btfm/signal.h (BTFM_SIGNAL_ALLOW_NONFINITE). */

/* Optical density, as mne.preprocessing.nirs.optical_density: out = -ln(x / mean(x)) per
 * channel. When any intensity is <= 0, every value is first replaced by its absolute
 * value and then raised to at least the smallest channel minimum that is not 0 (MNE's
 * rule; a warning is logged). out == x is allowed. BTFM_E_NUMERIC when every value is 0. */
BTFM_API btfm_status btfm_fnirs_optical_density(const float *x, int64_t n_times, int n_channels,
                                                unsigned flags, float *out);

/* Molar extinction coefficients of HbO and HbR at `wavelength_nm` (250-1000 nm) in
 * cm^-1/M, interpolated linearly in Prahl's table as MNE does (doc/fnirs.md). */
BTFM_API btfm_status btfm_fnirs_extinction(double wavelength_nm, double *hbo, double *hbr);

/* Modified Beer-Lambert law, as mne.preprocessing.nirs.beer_lambert_law: the optical
 * densities `od` of each source-detector pair (channels c with pair[c] = p, 0 <= p <
 * n_pairs, at least two different wavelengths wavelength_nm[c] each; pair[c] < 0
 * ignores a channel) become HbO and HbR in M: columns 2p and 2p + 1 of `hb` (n_times x
 * 2 n_pairs), [HbO, HbR] = pinv(E d ppf) od x 1e-3 with E the extinction coefficients
 * times 0.2303 and d = distance_m[p]. MNE's convention is ppf = 6; a pair whose distance
 * is 0 or not finite gives zeros (with a warning), as in MNE. */
BTFM_API btfm_status btfm_fnirs_beer_lambert(const float *od, int64_t n_times, int n_channels,
                                             const int *pair, const double *wavelength_nm,
                                             const double *distance_m, int n_pairs, double ppf,
                                             unsigned flags, float *hb);

/* Short-channel regression (Scholkmann et al. 2014, eq. 26-27; mne_nirs): channel c with
 * short_of[c] = s >= 0 becomes x_c - alpha x_s with alpha = <x_s, x_c> / <x_s, x_s>;
 * channels with short_of[c] < 0 are copied. out == x is allowed. */
BTFM_API btfm_status btfm_fnirs_short_channel_regression(const float *x, int64_t n_times,
                                                         int n_channels, const int *short_of,
                                                         unsigned flags, float *out);

/* Scalp coupling index (Pollonini et al. 2014), as
 * mne.preprocessing.nirs.scalp_coupling_index: the optical densities are band-passed
 * with MNE's zero-phase FIR filter (firwin design, Hamming window) and each channel gets
 * the correlation of its pair's two filtered wavelengths (with more than two wavelengths
 * the smallest correlation among them). `band` is {l_freq, h_freq, l_trans_bandwidth,
 * h_trans_bandwidth} in Hz, NULL for MNE's {0.7, 1.5, 0.3, 0.3}. Channels that are
 * constant or whose correlation is not finite get 0; channels with pair[c] < 0 NaN. */
BTFM_API btfm_status btfm_fnirs_scalp_coupling_index(const float *od, int64_t n_times,
                                                     int n_channels, const int *pair,
                                                     double sfreq, const double *band,
                                                     unsigned flags, double *sci);

/* ---- processing of datasets (since 1.3) ---- */

/* Source-detector distance of every channel in metres (n_channels doubles; NaN for
 * channels that are not fNIRS measurements or have no optode positions), as
 * mne.preprocessing.nirs.source_detector_distances. */
BTFM_API btfm_status btfm_dataset_nirs_distances(const btfm_dataset *ds, double *distance_m);

/* is_short[c] = 1 for fNIRS channels whose source-detector distance is below
 * max_distance_m (MNE's short_channels uses 0.01), else 0. */
BTFM_API btfm_status btfm_dataset_short_channels(const btfm_dataset *ds, double max_distance_m,
                                                 unsigned char *is_short);

/* A new in-memory dataset with the continuous-wave amplitude channels of `ds` turned into
 * optical densities (type fnirs_od, same names) and the other channels copied. */
BTFM_API btfm_status btfm_dataset_optical_density(btfm_dataset **out, btfm_dataset *ds);

/* A new in-memory dataset with the optical-density channels of each source-detector pair
 * replaced, where the pair's first one was, by "S<s>_D<d> hbo" and "S<s>_D<d> hbr" (M),
 * by btfm_fnirs_beer_lambert with `ppf` (MNE: 6); other channels copied. Events,
 * positions and identification are kept. */
BTFM_API btfm_status btfm_dataset_beer_lambert(btfm_dataset **out, btfm_dataset *ds, double ppf);

/* A new in-memory dataset where every long fNIRS channel (optical density, HbO or HbR;
 * distance above max_distance_m) has the nearest short channel (below it; nearest by
 * channel position, of the same type and wavelength) regressed out. BTFM_E_NOTFOUND when
 * the dataset has no short or no long channels. */
BTFM_API btfm_status btfm_dataset_short_channel_regression(btfm_dataset **out, btfm_dataset *ds,
                                                           double max_distance_m);

/* Scalp coupling index of every channel (n_channels doubles into `sci`; NaN for channels
 * that are not optical densities), the pairs taken from the channels' source and
 * detector. `band` as in btfm_fnirs_scalp_coupling_index. */
BTFM_API btfm_status btfm_dataset_scalp_coupling_index(btfm_dataset *ds, const double *band,
                                                       double *sci);

#ifdef __cplusplus
}
#endif

#endif
