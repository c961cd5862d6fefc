/* Text from files that cannot declare their encoding: UTF-8 when the bytes are valid
 * UTF-8, else Latin-1 (every byte maps to a code point, so decoding never fails); trigger
 * codes at the end of messages. */
#include <string.h>
#include "dataset_internal.h"

char *btfm_text_to_utf8(const char *bytes, size_t len)
{
    int utf8 = btfm_utf8_valid(bytes, len);
    char *out = btfm_malloc(utf8 ? len + 1 : 2 * len + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (utf8 || c < 0x80) {
            out[k++] = c ? (char)c : ' '; /* a stray NUL would cut the string */
        } else {
            out[k++] = (char)(0xC0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[k] = '\0';
    return out;
}

int btfm_io_message_code(const char *text)
{
    const char *end = text + strlen(text), *p = end;
    while (p > text && p[-1] >= '0' && p[-1] <= '9') p--;
    if (p == end || end - p > 9 || (p > text && p[-1] != ' ' && p[-1] != '\t')) return 0;
    int code = 0;
    for (; p < end; p++) code = code * 10 + (*p - '0');
    return code;
}
