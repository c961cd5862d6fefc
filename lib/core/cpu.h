/* What the processor offers: its name, its SIMD features and the highest x86 instruction
 * set level they make up, for the run-time report and for choosing kernels. Internal. */
#ifndef BTFM_CORE_CPU_H
#define BTFM_CORE_CPU_H

#include <stddef.h>

/* x86-64 instruction set levels, each including the ones before it. */
typedef enum btfm_isa {
    BTFM_ISA_UNKNOWN = 0, /* not x86-64, or not detectable */
    BTFM_ISA_SSE3,
    BTFM_ISA_SSSE3,
    BTFM_ISA_SSE41,
    BTFM_ISA_SSE42,
    BTFM_ISA_AVX,
    BTFM_ISA_AVX2, /* with FMA */
    BTFM_ISA_AVX512 /* F, CD, BW, DQ and VL */
} btfm_isa;

/* The highest level the CPU supports (and the OS enables). */
btfm_isa btfm_cpu_isa(void);

/* "sse3", "ssse3", "sse4.1", "sse4.2", "avx", "avx2", "avx512"; "unknown". */
const char *btfm_isa_name(btfm_isa isa);

/* The CPU's name ("Intel(R) Xeon(R) Processor"): /proc/cpuinfo's model name, else the
 * CPUID brand string, trimmed, into buf (always terminated); "unknown" when neither says. */
void btfm_cpu_name(char *buf, size_t size);

/* The SIMD features present, space-separated ("sse3 ssse3 sse4_1 sse4_2 avx avx2 fma
 * avx512f ...": /proc/cpuinfo's spelling but for sse3, "pni" there), into buf (always
 * terminated). */
void btfm_cpu_features(char *buf, size_t size);

#endif
