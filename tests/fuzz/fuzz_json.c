/* Fuzz target: the JSON parser. Whatever is refused must say where; whatever is accepted
 * must serialize to text that parses back to the same serialization, and copy and merge
 * without loss. */
#include <stdlib.h>
#include <string.h>
#include "core/json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static char *dump(const btfm_json *v, size_t *len)
{
    char *text = NULL;
    if (btfm_json_dump(v, &text, len) != BTFM_OK) abort();
    return text;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    btfm_json *v = NULL, *back = NULL, *copy = NULL, *merged = NULL;
    if (btfm_json_parse(&v, (const char *)data, size, "fuzz.json") != BTFM_OK) {
        if (v || !strstr(btfm_last_error(), ": line ")) abort();
        return 0;
    }
    size_t len, len2;
    char *text = dump(v, &len);
    if (btfm_json_parse(&back, text, len, "dump") != BTFM_OK) abort();
    char *text2 = dump(back, &len2);
    if (len != len2 || memcmp(text, text2, len) != 0) abort();
    if (btfm_json_copy(&copy, v) != BTFM_OK) abort();
    char *text3 = dump(copy, &len2);
    if (len != len2 || memcmp(text, text3, len) != 0) abort();
    if (btfm_json_kind_of(v) == BTFM_JSON_OBJECT) {
        /* Merging an object over itself changes nothing. */
        if (btfm_json_merge(&merged, v, copy) != BTFM_OK) abort();
        char *text4 = dump(merged, &len2);
        if (len != len2 || memcmp(text, text4, len) != 0) abort();
        /* Every key is found by name, unless some text holds U+0000, which a C string
         * key cannot name. */
        int has_nul = strstr(text, "\\u0000") != NULL;
        for (size_t i = 0; i < btfm_json_length(v) && !has_nul; i++)
            if (btfm_json_get(v, btfm_json_key_at(v, i)) != btfm_json_at(v, i)) abort();
        btfm_free(text4);
    }
    btfm_free(text);
    btfm_free(text2);
    btfm_free(text3);
    btfm_json_free(merged);
    btfm_json_free(copy);
    btfm_json_free(back);
    btfm_json_free(v);
    return 0;
}
