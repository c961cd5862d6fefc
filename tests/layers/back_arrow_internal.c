/* Fixture checked as a file of core: core reaching up into io's internal header. */
#include "core/internal.h"
#include "io/dataset_internal.h"
