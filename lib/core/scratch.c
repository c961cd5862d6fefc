/* The scratch-block cache: a short list of free blocks with their sizes, under one lock.
 * A request takes the smallest cached block that fits and is at most twice its size
 * (so small requests do not pin large blocks); blocks below SMALL bytes bypass the cache,
 * as malloc serves them from its own free lists without new pages. */
#include <pthread.h>
#include "internal.h"
#include "scratch.h"

enum { SLOTS = 48, SMALL = 64 * 1024 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int scopes;
static void *blocks[SLOTS];
static size_t sizes[SLOTS];

void btfm_scratch_begin(void)
{
    pthread_mutex_lock(&lock);
    scopes++;
    pthread_mutex_unlock(&lock);
}

void btfm_scratch_end(void)
{
    void *drop[SLOTS];
    int n = 0;
    pthread_mutex_lock(&lock);
    if (scopes > 0 && --scopes == 0)
        for (int i = 0; i < SLOTS; i++)
            if (blocks[i]) {
                drop[n++] = blocks[i];
                blocks[i] = NULL;
                sizes[i] = 0;
            }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < n; i++) btfm_free(drop[i]);
}

void *btfm_scratch_get(size_t bytes)
{
    if (bytes >= SMALL) {
        void *p = NULL;
        pthread_mutex_lock(&lock);
        int best = -1;
        for (int i = 0; i < SLOTS; i++)
            if (blocks[i] && sizes[i] >= bytes && sizes[i] / 2 <= bytes &&
                (best < 0 || sizes[i] < sizes[best]))
                best = i;
        if (best >= 0) {
            p = blocks[best];
            blocks[best] = NULL;
            sizes[best] = 0;
        }
        pthread_mutex_unlock(&lock);
        if (p) return p;
    }
    return btfm_malloc(bytes);
}

void btfm_scratch_put(void *block, size_t bytes)
{
    if (!block) return;
    if (bytes >= SMALL) {
        pthread_mutex_lock(&lock);
        int slot = -1;
        for (int i = 0; i < SLOTS && scopes > 0; i++)
            if (!blocks[i]) {
                slot = i;
                break;
            }
        if (slot >= 0) {
            blocks[slot] = block;
            sizes[slot] = bytes;
        }
        pthread_mutex_unlock(&lock);
        if (slot >= 0) return;
    }
    btfm_free(block);
}
