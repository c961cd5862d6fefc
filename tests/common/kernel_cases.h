/* The kernel-family matrix (tests/kernels): every layer that calls OpenBLAS/LAPACK
 * contributes one Check test case of lean checks, and tests/kernels runs them all under
 * each OPENBLAS_CORETYPE a Debian OpenBLAS can pick. To join: write
 * tests/<layer>/kernels_<layer>.c defining TCase *kernels_<layer>(void), append it to
 * kernel_case_sources in tests/<layer>/meson.build, and add the layer to KERNEL_CASES. */
#ifndef BTFM_TESTS_KERNEL_CASES_H
#define BTFM_TESTS_KERNEL_CASES_H

#include "unit.h"

#define KERNEL_CASES(X) X(dense) X(align) X(fmri) X(spectrum) X(signal) X(model)

#define KERNEL_CASE_DECLARE(layer) TCase *kernels_##layer(void);
KERNEL_CASES(KERNEL_CASE_DECLARE)
#undef KERNEL_CASE_DECLARE

#endif
