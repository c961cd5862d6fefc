/* The processor's name and SIMD features, from GCC's CPU detection (which also checks
 * that the OS saves the wide registers), the name as the kernel reports it
 * (/proc/cpuinfo) or else the CPUID brand string. */
#include <stdio.h>
#include <string.h>
#include "cpu.h"
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#  include <cpuid.h>
#  define BTFM_X86 1
#endif

btfm_isa btfm_cpu_isa(void)
{
#ifdef BTFM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return BTFM_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return BTFM_ISA_AVX2;
    if (__builtin_cpu_supports("avx")) return BTFM_ISA_AVX;
    if (__builtin_cpu_supports("sse4.2")) return BTFM_ISA_SSE42;
    if (__builtin_cpu_supports("sse4.1")) return BTFM_ISA_SSE41;
    if (__builtin_cpu_supports("ssse3")) return BTFM_ISA_SSSE3;
    if (__builtin_cpu_supports("sse3")) return BTFM_ISA_SSE3;
#endif
    return BTFM_ISA_UNKNOWN;
}

const char *btfm_isa_name(btfm_isa isa)
{
    static const char *const names[] = {"unknown", "sse3", "ssse3", "sse4.1",
                                        "sse4.2",  "avx",  "avx2",  "avx512"};
    return isa >= BTFM_ISA_UNKNOWN && isa <= BTFM_ISA_AVX512 ? names[isa] : "unknown";
}

/* Copy the n bytes at s into buf (size > 0), cut to fit and terminated. */
static void copy_text(char *buf, size_t size, const char *s, size_t n)
{
    if (n >= size) n = size - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

/* The "model name" line of /proc/cpuinfo (what the system's own tools show); 0 when
 * there is none. */
static int name_from_kernel(char *buf, size_t size)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) continue;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        size_t n = strcspn(v, "\n");
        while (n > 0 && v[n - 1] == ' ') n--;
        copy_text(buf, size, v, n);
        found = n > 0;
    }
    fclose(f);
    return found;
}

void btfm_cpu_name(char *buf, size_t size)
{
    if (!size) return;
    buf[0] = '\0';
    if (name_from_kernel(buf, size)) return;
#ifdef BTFM_X86
    if (__get_cpuid_max(0x80000000u, NULL) >= 0x80000004u) {
        unsigned regs[12];
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2],
                        &regs[4 * i + 3]);
        char brand[49];
        memcpy(brand, regs, 48);
        brand[48] = '\0';
        const char *start = brand;
        while (*start == ' ') start++;
        size_t n = strlen(start);
        while (n > 0 && start[n - 1] == ' ') n--;
        copy_text(buf, size, start, n);
    }
#endif
    if (!buf[0]) copy_text(buf, size, "unknown", 7);
}

void btfm_cpu_features(char *buf, size_t size)
{
    if (!size) return;
    buf[0] = '\0';
#ifdef BTFM_X86
    __builtin_cpu_init();
    /* __builtin_cpu_supports takes literals only: one line a feature */
    const int present[] = {
        __builtin_cpu_supports("sse3"),     __builtin_cpu_supports("ssse3"),
        __builtin_cpu_supports("sse4.1"),   __builtin_cpu_supports("sse4.2"),
        __builtin_cpu_supports("avx"),      __builtin_cpu_supports("avx2"),
        __builtin_cpu_supports("fma"),      __builtin_cpu_supports("avx512f"),
        __builtin_cpu_supports("avx512cd"), __builtin_cpu_supports("avx512bw"),
        __builtin_cpu_supports("avx512dq"), __builtin_cpu_supports("avx512vl"),
    };
    static const char *const names[] = {"sse3",    "ssse3",    "sse4_1",   "sse4_2",
                                        "avx",     "avx2",     "fma",      "avx512f",
                                        "avx512cd", "avx512bw", "avx512dq", "avx512vl"};
    size_t used = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!present[i]) continue;
        size_t n = strlen(names[i]);
        if (used + n + 2 > size) break;
        if (used) buf[used++] = ' ';
        memcpy(buf + used, names[i], n + 1);
        used += n;
    }
#endif
}
