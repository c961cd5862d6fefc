/* Scratch-block caches, one per open scope: the outermost btfm_scratch_begin on a thread
 * makes a cache that lives until its matching end, and the worker threads of that call's
 * parallel loops use the same cache (btfm_scratch_adopt), under its lock. Calls on other
 * threads, hence other handles, never see it. A request takes the smallest cached block
 * that fits and is at most twice its size (so small requests do not pin large blocks);
 * blocks below SMALL bytes bypass the cache, as malloc serves them from its own free
 * lists without new pages. */
#include <pthread.h>
#include "internal.h"
#include "scratch.h"

enum { SLOTS = 48, SMALL = 64 * 1024 };

struct btfm_scratch {
    pthread_mutex_t lock;
    void *blocks[SLOTS];
    size_t sizes[SLOTS];
};

static _Thread_local btfm_scratch *current; /* the cache this thread's calls use */
static _Thread_local int depth;             /* scopes open on this thread */
static _Thread_local int owner;             /* this thread made `current` */

void btfm_scratch_begin(void)
{
    if (depth++ > 0 || current) return; /* nested, or inside an adopted cache */
    btfm_scratch *s = btfm_malloc(sizeof *s);
    if (!s) return; /* no cache: get and put fall back to malloc and free */
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        btfm_free(s);
        return;
    }
    for (int i = 0; i < SLOTS; i++) s->blocks[i] = NULL, s->sizes[i] = 0;
    current = s;
    owner = 1;
}

void btfm_scratch_end(void)
{
    if (depth == 0 || --depth > 0 || !owner) return;
    btfm_scratch *s = current;
    current = NULL;
    owner = 0;
    for (int i = 0; i < SLOTS; i++) btfm_free(s->blocks[i]);
    pthread_mutex_destroy(&s->lock);
    btfm_free(s);
}

btfm_scratch *btfm_scratch_current(void) { return current; }

void btfm_scratch_adopt(btfm_scratch *s)
{
    if (!owner) current = s;
}

void *btfm_scratch_get(size_t bytes)
{
    btfm_scratch *s = current;
    if (s && bytes >= SMALL) {
        void *p = NULL;
        pthread_mutex_lock(&s->lock);
        int best = -1;
        for (int i = 0; i < SLOTS; i++)
            if (s->blocks[i] && s->sizes[i] >= bytes && s->sizes[i] / 2 <= bytes &&
                (best < 0 || s->sizes[i] < s->sizes[best]))
                best = i;
        if (best >= 0) {
            p = s->blocks[best];
            s->blocks[best] = NULL;
            s->sizes[best] = 0;
        }
        pthread_mutex_unlock(&s->lock);
        if (p) return p;
    }
    return btfm_malloc(bytes);
}

void btfm_scratch_put(void *block, size_t bytes)
{
    if (!block) return;
    btfm_scratch *s = current;
    if (s && bytes >= SMALL) {
        pthread_mutex_lock(&s->lock);
        int slot = -1;
        for (int i = 0; i < SLOTS; i++)
            if (!s->blocks[i]) {
                slot = i;
                break;
            }
        if (slot >= 0) {
            s->blocks[slot] = block;
            s->sizes[slot] = bytes;
        }
        pthread_mutex_unlock(&s->lock);
        if (slot >= 0) return;
    }
    btfm_free(block);
}
