/* Fixture checked as a file of dense: dense reaching up into io's public header. */
#include "dense/dense.h"
#include <btfm/dataset.h>
