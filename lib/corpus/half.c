/* IEEE 754 binary16 conversions for float16 corpora, bit for bit as NumPy's astype
 * (round to nearest even, overflow to infinity, subnormals kept, NaN stays NaN). */
#include <string.h>
#include "corpus_internal.h"

uint16_t btfm_half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t abs = x & 0x7fffffff;
    if (abs >= 0x7f800000) /* inf or NaN (NaN keeps a quiet payload bit) */
        return sign | 0x7c00 | (abs > 0x7f800000 ? 0x0200 | ((abs >> 13) & 0x3ff) : 0);
    if (abs >= 0x477ff000) return sign | 0x7c00; /* rounds above 65504 */
    if (abs < 0x38800000) { /* subnormal half (or zero) */
        if (abs < 0x33000000) return sign; /* below half the smallest subnormal */
        uint32_t mant = (abs & 0x7fffff) | 0x800000;
        int shift = 126 - (int)(abs >> 23); /* 14 .. 24 */
        uint32_t q = mant >> shift, rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1))) q++;
        return sign | (uint16_t)q;
    }
    uint32_t q = ((abs >> 13) - (112u << 10)), rem = abs & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (q & 1))) q++; /* a carry into the exponent is right */
    return sign | (uint16_t)q;
}

float btfm_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, x;
    if (exp == 0x1f) x = sign | 0x7f800000 | (mant << 13);
    else if (exp) x = sign | ((exp + 112) << 23) | (mant << 13);
    else if (!mant) x = sign;
    else { /* subnormal: normalize */
        int e = -1;
        do { e++; mant <<= 1; } while (!(mant & 0x400));
        x = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}
