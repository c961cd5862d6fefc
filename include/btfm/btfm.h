/* libbtfm: brain recordings to training signals for foundation models.
 * The umbrella header; every public header of the library. */
#ifndef BTFM_BTFM_H
#define BTFM_BTFM_H

#include "export.h"
#include "version.h"
#include "status.h"
#include "alloc.h"
#include "log.h"
#include "progress.h"
#include "param.h"
#include "container.h"
#include "dataset.h"
#include "volume.h"
#include "signal.h"
#include "aligner.h"
#include "cothb.h"
#include "table.h"
#include "bids.h"
#include "glm.h"
#include "spectrum.h"
#include "fnirs.h"
#include "sim.h"
#include "model.h"
#include "reward.h"
#include "stream.h"
#include "corpus.h"

#endif
