/* Core: version, status codes, thread-local errors, allocator hook, log callback,
 * parallel loops. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include "unit.h"
#include "core/parallel.h"
#include "core/scratch.h"
#include "core/progress.h"
#include "core/read_file.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(version_matches_headers)
{
    ck_assert_uint_eq(btfm_version_number(), BTFM_VERSION_NUMBER);
    ck_assert_uint_eq(BTFM_VERSION_NUMBER, BTFM_VERSION_MAJOR * 10000u + BTFM_VERSION_MINOR * 100u + BTFM_VERSION_PATCH);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", BTFM_VERSION_MAJOR, BTFM_VERSION_MINOR,
             BTFM_VERSION_PATCH);
    ck_assert_str_eq(btfm_version_string(), expected);
    ck_assert_str_eq(BTFM_VERSION_STRING, expected);
    ck_assert(BTFM_VERSION_CHECK(1, 0, 0));
    ck_assert(!BTFM_VERSION_CHECK(BTFM_VERSION_MAJOR + 1, 0, 0));
}
END_TEST

START_TEST(capabilities_are_words)
{
    ck_assert(btfm_has_capability("core"));
    ck_assert(btfm_has_capability("container"));
    ck_assert(!btfm_has_capability("cor"));   /* a prefix is not a word */
    ck_assert(!btfm_has_capability("ore"));
    ck_assert(!btfm_has_capability(""));
    ck_assert(!btfm_has_capability(NULL));
    ck_assert_ptr_nonnull(strstr(btfm_capabilities(), "core"));
}
END_TEST

START_TEST(status_names_are_dense_and_stable)
{
    /* The numbers are part of the ABI: pin every one. */
    static const struct { int code; const char *name; } pinned[] = {
        {0, "BTFM_OK"}, {-1, "BTFM_E_INVALID"}, {-2, "BTFM_E_NOMEM"}, {-3, "BTFM_E_IO"},
        {-4, "BTFM_E_FORMAT"}, {-5, "BTFM_E_UNSUPPORTED"}, {-6, "BTFM_E_RANGE"},
        {-7, "BTFM_E_STATE"}, {-8, "BTFM_E_CHECKSUM"}, {-9, "BTFM_E_VERSION"},
        {-10, "BTFM_E_KIND"}, {-11, "BTFM_E_TRUNCATED"}, {-12, "BTFM_E_NOTFOUND"},
        {-13, "BTFM_E_NUMERIC"}, {-14, "BTFM_E_INTERNAL"}, {-15, "BTFM_E_CANCELLED"},
        {-16, "BTFM_E_AGAIN"}, {-17, "BTFM_E_REMOTE"},
    };
    for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
        ck_assert_str_eq(btfm_status_name(pinned[i].code), pinned[i].name);
        ck_assert_str_ne(btfm_status_str(pinned[i].code), "unknown status");
    }
    ck_assert_int_eq(BTFM_E_FORMAT, -4);
    ck_assert_int_eq(BTFM_E_INTERNAL, -14);
    ck_assert_int_eq(BTFM_E_REMOTE, -17);
    ck_assert_ptr_null(btfm_status_name(-18));
    ck_assert_ptr_null(btfm_status_name(1));
    ck_assert_str_eq(btfm_status_str(-18), "unknown status");
    ck_assert_int_eq(sizeof(btfm_status), sizeof(int));
}
END_TEST

START_TEST(last_error_never_null_and_clearable)
{
    btfm_clear_error();
    ck_assert_ptr_nonnull(btfm_last_error());
    ck_assert_str_eq(btfm_last_error(), "");
    ck_assert_int_eq(btfm_last_error_status(), BTFM_OK);
    ck_assert_status(btfm_set_log_level(9), BTFM_E_RANGE);
    ck_assert_int_eq(btfm_last_error_status(), BTFM_E_RANGE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "level 9"));
    btfm_clear_error();
    ck_assert_str_eq(btfm_last_error(), "");
}
END_TEST

static void *fail_in_thread(void *arg)
{
    int level = *(int *)arg;
    for (int i = 0; i < 1000; i++) {
        btfm_set_log_level(level);
        char expected[32];
        snprintf(expected, sizeof expected, "level %d ", level);
        if (!strstr(btfm_last_error(), expected)) return (void *)1;
    }
    return NULL;
}

START_TEST(last_error_is_per_thread)
{
    int levels[2] = {100, 200};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, fail_in_thread, &levels[i]);
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        ck_assert_ptr_null(r);
    }
}
END_TEST

/* A counting allocator that can be told to fail after `budget` calls. */
#include "counting_alloc.h"

START_TEST(allocator_hook_routes_and_refuses_late_change)
{
    counter.calls = counter.live = 0;
    counter.budget = -1;
    ck_assert_status(btfm_set_allocator(count_malloc, NULL, count_free, &counter), BTFM_E_INVALID);
    ck_assert_ok(btfm_set_allocator(count_malloc, count_realloc, count_free, &counter));
    btfm_container *c = NULL;
    ck_assert_ok(btfm_container_new(&c, "x"));
    ck_assert_int_gt(counter.calls, 0);
    ck_assert_int_eq(btfm_live_allocations(), counter.live);
    /* Changing the allocator while memory is live would free it with the wrong one. */
    ck_assert_status(btfm_set_allocator(NULL, NULL, NULL, NULL), BTFM_E_STATE);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "still live"));
    btfm_container_free(c);
    ck_assert_int_eq(counter.live, 0);
    ck_assert_int_eq(btfm_live_allocations(), 0);
    ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
}
END_TEST

/* Every allocation failure point of a save/load round trip gives BTFM_E_NOMEM, leaks
 * nothing, and the call succeeds once enough memory is available. */
START_TEST(every_allocation_failure_is_clean)
{
    ck_assert_ok(btfm_set_allocator(count_malloc, count_realloc, count_free, &counter));
    const double values[4] = {1, 2, 3, 4};
    const int64_t shape[1] = {4};
    int succeeded = 0;
    for (long budget = 0; budget < 200 && !succeeded; budget++) {
        counter.calls = counter.live = 0;
        counter.budget = budget;
        btfm_container *c = NULL, *back = NULL;
        int st = btfm_container_new(&c, "oom");
        for (int i = 0; st == BTFM_OK && i < 12; i++) {
            char name[16];
            snprintf(name, sizeof name, "a%d", i);
            st = btfm_container_put(c, name, BTFM_DTYPE_F64, 1, shape, values);
        }
        unsigned char buf[4096];
        size_t n = 0;
        if (st == BTFM_OK) st = btfm_container_save_buffer(c, buf, sizeof buf, &n);
        if (st == BTFM_OK) st = btfm_container_load_buffer(&back, buf, n, "oom");
        ck_assert_msg(st == BTFM_OK || st == BTFM_E_NOMEM, "budget %ld: %s", budget, btfm_last_error());
        if (st == BTFM_E_NOMEM) ck_assert_ptr_null(back);
        if (st == BTFM_OK) {
            ck_assert_int_eq(btfm_container_count(back), 12);
            succeeded = 1;
        }
        btfm_container_free(c);
        btfm_container_free(back);
        ck_assert_msg(counter.live == 0, "budget %ld leaked %ld blocks", budget, counter.live);
    }
    ck_assert(succeeded);
    counter.budget = -1;
    ck_assert_ok(btfm_set_allocator(NULL, NULL, NULL, NULL));
}
END_TEST

static struct { int calls, level; char last[512]; } logged;

static void capture_log(int level, const char *message, void *user)
{
    ck_assert_ptr_eq(user, &logged);
    logged.calls++;
    logged.level = level;
    snprintf(logged.last, sizeof logged.last, "%s", message);
}

START_TEST(log_callback_and_level)
{
    ck_assert_int_eq(btfm_get_log_level(), BTFM_LOG_WARNING);
    ck_assert_str_eq(btfm_log_level_name(BTFM_LOG_ERROR), "error");
    ck_assert_str_eq(btfm_log_level_name(BTFM_LOG_DEBUG), "debug");
    ck_assert_ptr_null(btfm_log_level_name(4));
    ck_assert_ptr_null(btfm_log_level_name(-1));
    btfm_set_log_callback(capture_log, &logged);
    logged.calls = 0;
    /* A failure is logged at debug level: dropped at the default level... */
    btfm_param_find(BTFM_OBJECT_CONTAINER, "nope", &(int){0});
    ck_assert_int_eq(logged.calls, 0);
    /* ...and delivered with the failure's message at debug level. */
    ck_assert_ok(btfm_set_log_level(BTFM_LOG_DEBUG));
    btfm_param_find(BTFM_OBJECT_CONTAINER, "nope", &(int){0});
    ck_assert_int_eq(logged.calls, 1);
    ck_assert_int_eq(logged.level, BTFM_LOG_DEBUG);
    ck_assert_ptr_nonnull(strstr(logged.last, "BTFM_E_NOTFOUND"));
    ck_assert_ptr_nonnull(strstr(logged.last, "\"nope\""));
    ck_assert_status(btfm_set_log_level(-1), BTFM_E_RANGE);
    ck_assert_int_eq(btfm_get_log_level(), BTFM_LOG_DEBUG);
    btfm_set_log_callback(NULL, NULL);
    ck_assert_ok(btfm_set_log_level(BTFM_LOG_WARNING));
}
END_TEST

/* --- btfm_parallel_for ---------------------------------------------------------- */

static struct {
    int64_t out[100];
    atomic_int arrived;  /* tasks 0 and 1 meet here when `meet` is set */
    int meet;
    int fail_a, fail_b;  /* indices that fail (-1: none) */
} loop;

static btfm_status square_task(void *ctx, int64_t i, int worker)
{
    ck_assert_ptr_eq(ctx, &loop);
    if (loop.meet && i < 2) {
        /* Each of the first two tasks waits for the other: they can only both finish
         * when two threads run them at once (the bound only stops a hang). */
        atomic_fetch_add(&loop.arrived, 1);
        for (long spin = 0; atomic_load(&loop.arrived) < 2 && spin < 200000000L; spin++)
            sched_yield();
        if (atomic_load(&loop.arrived) < 2)
            return btfm_fail(BTFM_E_STATE, "task %d ran alone", (int)i);
    }
    if (i == loop.fail_a || i == loop.fail_b)
        return btfm_fail(BTFM_E_NUMERIC, "task %d failed on purpose", (int)i);
    loop.out[i] = i * i;
    return BTFM_OK;
}

static void reset_loop(int meet, int fail_a, int fail_b)
{
    memset(loop.out, 0xff, sizeof loop.out);
    atomic_store(&loop.arrived, 0);
    loop.meet = meet;
    loop.fail_a = fail_a;
    loop.fail_b = fail_b;
}

/* Every index runs exactly once, for any thread count, with the caller's thread among
 * the workers; two threads really run at once. */
START_TEST(parallel_for_runs_every_index)
{
    const int threads[] = {0, 1, 2, 3, 8, UNIT_SIZE(200, 101)}; /* the last: more than tasks */
    for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
        reset_loop(0, -1, -1);
        ck_assert_ok(btfm_parallel_for(threads[k], 100, square_task, &loop));
        for (int64_t i = 0; i < 100; i++) ck_assert_int_eq(loop.out[i], i * i);
    }
    reset_loop(1, -1, -1);
    ck_assert_ok(btfm_parallel_for(2, 100, square_task, &loop));
    for (int64_t i = 0; i < 100; i++) ck_assert_int_eq(loop.out[i], i * i);
    reset_loop(0, -1, -1);
    ck_assert_ok(btfm_parallel_for(4, 0, square_task, &loop)); /* nothing to do */
    ck_assert_int_eq(loop.out[0], -1);
}
END_TEST

/* A failure reaches the calling thread with its status and message; of two failures the
 * lower index is reported, whatever the thread count. */
START_TEST(parallel_for_reports_the_lowest_failure)
{
    const int threads[] = {1, 2, 4};
    for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
        reset_loop(0, 37, 11);
        btfm_clear_error();
        ck_assert_status(btfm_parallel_for(threads[k], 100, square_task, &loop),
                         BTFM_E_NUMERIC);
        ck_assert_str_eq(btfm_last_error(), "task 11 failed on purpose");
        ck_assert_int_eq(btfm_last_error_status(), BTFM_E_NUMERIC);
        for (int64_t i = 0; i < 11; i++) ck_assert_int_eq(loop.out[i], i * i);
    }
}
END_TEST

/* --- scratch blocks ------------------------------------------------------------ */

START_TEST(scratch_reuses_blocks_inside_a_scope_only)
{
    const long base = btfm_live_allocations();
    /* outside a scope: plain allocations, freed on put */
    void *a = btfm_scratch_get(1 << 20);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(btfm_live_allocations(), base + 1);
    btfm_scratch_put(a, 1 << 20);
    ck_assert_int_eq(btfm_live_allocations(), base);

    btfm_scratch_begin(); /* the scope's cache is one allocation */
    ck_assert_int_eq(btfm_live_allocations(), base + 1);
    void *b = btfm_scratch_get(1 << 20);
    memset(b, 7, 1 << 20);
    btfm_scratch_put(b, 1 << 20);
    ck_assert_int_eq(btfm_live_allocations(), base + 2); /* kept */
    /* a request that fits takes the kept block; one more than twice smaller does not */
    void *small = btfm_scratch_get(300 * 1024);
    ck_assert_ptr_ne(small, b);
    void *again = btfm_scratch_get(600 * 1024);
    ck_assert_ptr_eq(again, b);
    void *bigger = btfm_scratch_get((1 << 20) + 1); /* too large for any kept block */
    ck_assert_ptr_ne(bigger, b);
    btfm_scratch_put(again, 600 * 1024);
    btfm_scratch_put(small, 300 * 1024);
    btfm_scratch_put(bigger, (1 << 20) + 1);
    /* nested scopes: the inner end keeps the blocks, the outer one frees them */
    btfm_scratch_begin();
    btfm_scratch_end();
    ck_assert_int_eq(btfm_live_allocations(), base + 4);
    btfm_scratch_end();
    ck_assert_int_eq(btfm_live_allocations(), base);
    /* small blocks bypass the cache; NULL puts are no-ops; an unmatched end is harmless */
    btfm_scratch_begin();
    void *tiny = btfm_scratch_get(100);
    btfm_scratch_put(tiny, 100);
    btfm_scratch_put(NULL, 1 << 20);
    ck_assert_int_eq(btfm_live_allocations(), base + 1);
    btfm_scratch_end();
    btfm_scratch_end();
    ck_assert_int_eq(btfm_live_allocations(), base);
}
END_TEST

/* A scope belongs to the call that opened it: another thread never gets its blocks nor
 * keeps blocks in it, while the workers of that call's parallel loops share it. */
static void *scratch_elsewhere(void *arg)
{
    void **kept = arg;
    void *p = btfm_scratch_get(1 << 20);
    kept[1] = p;                 /* not the block the other thread's scope keeps */
    btfm_scratch_put(p, 1 << 20); /* freed at once: this thread has no scope */
    return NULL;
}

/* Two tasks on two threads (each waits for the other): the started worker takes a block. */
typedef struct scratch_tasks {
    atomic_int entered;
    void *got;
} scratch_tasks;

static btfm_status scratch_task(void *ctx, int64_t index, int worker)
{
    scratch_tasks *t = ctx;
    (void)index;
    atomic_fetch_add(&t->entered, 1);
    while (atomic_load(&t->entered) < 2) sched_yield();
    if (worker > 0) t->got = btfm_scratch_get(1 << 20);
    return BTFM_OK;
}

START_TEST(scratch_scopes_belong_to_their_call)
{
    const long base = btfm_live_allocations();
    void *kept[2];
    btfm_scratch_begin();
    kept[0] = btfm_scratch_get(1 << 20);
    btfm_scratch_put(kept[0], 1 << 20);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, scratch_elsewhere, kept), 0);
    pthread_join(t, NULL);
    ck_assert_ptr_ne(kept[1], kept[0]);
    ck_assert_int_eq(btfm_live_allocations(), base + 2); /* the cache and kept[0] */
    /* a worker thread of this call's parallel loop takes the kept block */
    scratch_tasks tasks = {.got = NULL};
    atomic_init(&tasks.entered, 0);
    ck_assert_ok(btfm_parallel_for(2, 2, scratch_task, &tasks));
    ck_assert_ptr_eq(tasks.got, kept[0]);
    btfm_scratch_put(tasks.got, 1 << 20);
    ck_assert_int_eq(btfm_live_allocations(), base + 2);
    btfm_scratch_end();
    ck_assert_int_eq(btfm_live_allocations(), base);
}
END_TEST

typedef struct progress_log {
    int calls, cancel_at;
    double fractions[512];
    char last_stage[32];
} progress_log;

static int record_progress(const char *stage, double fraction, void *user)
{
    progress_log *log = user;
    if (log->calls < 512) log->fractions[log->calls] = fraction;
    snprintf(log->last_stage, sizeof log->last_stage, "%s", stage);
    log->calls++;
    return log->cancel_at > 0 && log->calls >= log->cancel_at;
}

START_TEST(progress_maps_parts_throttles_and_cancels)
{
    /* Two parts of 30% and 70%, each stepped through 1000 updates: the callback sees a
     * non-decreasing sequence from 0 to 1, at most ~200 calls, and the split at 0.3. */
    progress_log log = {0};
    btfm_progress p;
    ck_assert_ok(btfm_progress_start(&p, record_progress, &log, "start"));
    btfm_progress first = btfm_progress_part(&p, 0.0, 0.3);
    btfm_progress second = btfm_progress_part(&p, 0.3, 1.0);
    for (int i = 1; i <= 1000; i++) ck_assert_ok(btfm_progress_update(&first, "one", i / 1000.0));
    int calls_after_first = log.calls;
    ck_assert_double_eq_tol(log.fractions[calls_after_first - 1], 0.3, 0.006);
    for (int i = 1; i <= 1000; i++) ck_assert_ok(btfm_progress_update(&second, "two", i / 1000.0));
    ck_assert_ok(btfm_progress_done(&p, "done"));
    ck_assert_double_eq(log.fractions[0], 0.0);
    ck_assert_double_eq(log.fractions[log.calls - 1], 1.0);
    ck_assert_str_eq(log.last_stage, "done");
    ck_assert_int_le(log.calls, 205);
    ck_assert_int_ge(log.calls, 100);
    for (int i = 1; i < log.calls; i++) ck_assert(log.fractions[i] >= log.fractions[i - 1]);

    /* Cancelling turns into BTFM_E_CANCELLED with the stage in the message. */
    progress_log stop = {.cancel_at = 3};
    ck_assert_ok(btfm_progress_start(&p, record_progress, &stop, "fit"));
    btfm_status st = BTFM_OK;
    for (int i = 1; i <= 100 && st == BTFM_OK; i++) st = btfm_progress_update(&p, "fold 2", i / 100.0);
    ck_assert_int_eq(st, BTFM_E_CANCELLED);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "fold 2"));
    ck_assert_str_eq(btfm_status_name(BTFM_E_CANCELLED), "BTFM_E_CANCELLED");

    /* No handle callback: the thread's callback is used, and only on this thread. */
    progress_log thread_log = {0};
    btfm_set_thread_progress(record_progress, &thread_log);
    void *user = NULL;
    ck_assert(btfm_get_thread_progress(&user) == record_progress);
    ck_assert_ptr_eq(user, &thread_log);
    ck_assert_ok(btfm_progress_start(&p, NULL, NULL, "index"));
    ck_assert_ok(btfm_progress_done(&p, "index"));
    ck_assert_int_eq(thread_log.calls, 2);
    btfm_set_thread_progress(NULL, NULL);
    ck_assert_ok(btfm_progress_start(&p, NULL, NULL, "index"));
    ck_assert_ok(btfm_progress_update(&p, "index", 0.5));
    ck_assert_int_eq(thread_log.calls, 2);
}
END_TEST

/* A save removes the PATH.tmp-XXXXXX files of the same target that no live writer holds
 * (a writer killed mid-save leaves one), and keeps a live writer's and other targets'. */
START_TEST(saves_remove_stale_temporaries_of_their_target)
{
    char dir[] = "/tmp/btfm-core-XXXXXX", path[128], stale[128], live[128], other[128];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.bin", dir);
    snprintf(stale, sizeof stale, "%s/model.bin.tmp-AbC123", dir);
    snprintf(live, sizeof live, "%s/model.bin.tmp-LiVe99", dir);
    snprintf(other, sizeof other, "%s/other.bin.tmp-AbC123", dir);
    const char *names[] = {stale, live, other};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(names[i], "wb");
        fputs("half a model", f);
        fclose(f);
    }
    int held = open(live, O_RDONLY);
    ck_assert_int_eq(flock(held, LOCK_EX), 0); /* a writer still at work */
    ck_assert_ok(btfm_write_file(path, "test", "new", 3));
    ck_assert_int_ne(access(stale, F_OK), 0);
    ck_assert_int_eq(access(live, F_OK), 0);
    ck_assert_int_eq(access(other, F_OK), 0);
    close(held);
    char *bytes;
    size_t len;
    ck_assert_ok(btfm_read_file(path, "test", 100, &bytes, &len));
    ck_assert_int_eq(len, 3);
    btfm_free(bytes);
    ck_assert_ok(btfm_write_file(path, "test", "again", 5)); /* the lock died: now stale */
    ck_assert_int_ne(access(live, F_OK), 0);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A FIFO named like a recording or a table blocks a plain open until a writer comes: it
 * is refused at once instead (the test would time out otherwise). */
START_TEST(fifos_are_refused_without_blocking)
{
    char dir[] = "/tmp/btfm-core-XXXXXX", path[160];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *names[] = {"x.edf", "x.bdf", "x.vhdr", "x.nii", "events.tsv", "x.fif",
                           "x.snirf"};
    const int formats[] = {BTFM_FORMAT_EDF, BTFM_FORMAT_BDF, BTFM_FORMAT_BRAINVISION,
                           BTFM_FORMAT_NIFTI, BTFM_FORMAT_AUTO, BTFM_FORMAT_FIF,
                           BTFM_FORMAT_SNIRF};
    /* SNIRF files are refused as unsupported, FIFO or not, without HDF5 */
    const size_t n = sizeof names / sizeof *names - !btfm_has_capability("snirf");
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        char *bytes;
        size_t len;
        ck_assert_status(btfm_read_file(path, "test", 100, &bytes, &len), BTFM_E_IO);
        ck_assert_msg(strstr(btfm_last_error(), "is a FIFO (named pipe), expected a regular "
                             "file"), "%s", btfm_last_error());
        for (int k = 0; k < 2; k++) {
            const int format = k ? formats[i] : BTFM_FORMAT_AUTO;
            btfm_dataset *ds = (btfm_dataset *)1;
            ck_assert_status(btfm_dataset_open(&ds, path, format, 0), BTFM_E_IO);
            ck_assert_ptr_null(ds);
            ck_assert_msg(strstr(btfm_last_error(), "FIFO") && strstr(btfm_last_error(), path),
                          "%s as format %d: %s", names[i], format, btfm_last_error());
        }
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

/* A message longer than the buffer loses the middle of its path, not its cause. */
START_TEST(long_messages_keep_their_cause)
{
    char path[5001];
    path[0] = '/';
    for (int i = 1; i < 5000; i++) path[i] = i % 300 == 0 ? '/' : 'a';
    path[5000] = '\0';
    btfm_dataset *ds;
    ck_assert_status(btfm_dataset_open(&ds, path, BTFM_FORMAT_EDF, 0), BTFM_E_IO);
    const char *msg = btfm_last_error();
    ck_assert_int_eq(strlen(msg), 1023);
    ck_assert_msg(strstr(msg, "edf: /aaaa") == msg, "%s", msg);
    ck_assert_ptr_nonnull(strstr(msg, "a ... a"));
    const char *cause = "File name too long";
    ck_assert_str_eq(msg + strlen(msg) - strlen(cause), cause);
}
END_TEST

static Suite *core_suite(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    unit_set_timeout(tc, 0.3); /* seconds of work on an idle machine */
    tcase_add_test(tc, version_matches_headers);
    tcase_add_test(tc, capabilities_are_words);
    tcase_add_test(tc, status_names_are_dense_and_stable);
    tcase_add_test(tc, last_error_never_null_and_clearable);
    tcase_add_test(tc, last_error_is_per_thread);
    tcase_add_test(tc, allocator_hook_routes_and_refuses_late_change);
    tcase_add_test(tc, every_allocation_failure_is_clean);
    tcase_add_test(tc, log_callback_and_level);
    tcase_add_test(tc, parallel_for_runs_every_index);
    tcase_add_test(tc, parallel_for_reports_the_lowest_failure);
    tcase_add_test(tc, scratch_reuses_blocks_inside_a_scope_only);
    tcase_add_test(tc, scratch_scopes_belong_to_their_call);
    tcase_add_test(tc, progress_maps_parts_throttles_and_cancels);
    tcase_add_test(tc, saves_remove_stale_temporaries_of_their_target);
    tcase_add_test(tc, fifos_are_refused_without_blocking);
    tcase_add_test(tc, long_messages_keep_their_cause);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(core_suite)
