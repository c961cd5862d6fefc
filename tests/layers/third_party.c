/* Fixture checked as a file of signal: LAPACK outside lib/dense. */
#include <lapacke.h>
#include "signal/signal_internal.h"
