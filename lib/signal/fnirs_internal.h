/* Shared by the fNIRS functions of the signal and spectrum layers: the grouping of a
 * dataset's fNIRS channels into source-detector pairs. Not installed. */
#ifndef BTFM_SIGNAL_FNIRS_INTERNAL_H
#define BTFM_SIGNAL_FNIRS_INTERNAL_H

#include "signal_internal.h"
#include <btfm/fnirs.h>

/* pair[c] = the index (0, 1, ... in order of first appearance) of channel c's
 * (source, detector) among the channels of type `type` that are fNIRS measurements, -1
 * for the others; *n_pairs counts them. */
btfm_status btfm_fnirs_pairs(const btfm_dataset *ds, int type, int *pair, int *n_pairs);

#endif
