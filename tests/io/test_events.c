/* Choosing a dataset's events by label (MNE's hierarchical /-separated tags), the size
 * query and the messages when nothing matches; epochs around no events are refused. The
 * expected selections are written out by hand from MNE's rule (every tag of the query is
 * a tag of the label); tests/signal/test_signal_mne.py compares with MNE itself. */
#include <stdio.h>
#include "unit.h"

static btfm_dataset *labelled(void)
{
    static const char *labels[] = {"stim/left", "resp", "stim/right", "left/resp", "stim",
                                   "stim/left/strong", "stimulus"};
    float data[100 * 2] = {0};
    btfm_dataset *ds = NULL;
    ck_assert_ok(btfm_dataset_from_array(&ds, data, 100, 2, 10.0, NULL));
    for (int i = 0; i < 7; i++)
        ck_assert_ok(btfm_dataset_add_event(ds, 1.0 + i, 0, "annotation", labels[i], 0));
    ck_assert_ok(btfm_dataset_add_event(ds, 0.5, 0.1, "gap", "", 0));
    return ds;
}

/* The selected indices as a string "1 2 3" (events sorted by onset: the gap is 0). */
static const char *selected(const btfm_dataset *ds, const char *label)
{
    static char text[128];
    int64_t idx[16], n = -1;
    btfm_status st = btfm_dataset_select_events(ds, label, idx, 16, &n);
    if (st) return btfm_status_name(st);
    size_t used = 0;
    text[0] = '\0';
    for (int64_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%lld", i ? " " : "", (long long)idx[i]);
    return text;
}

START_TEST(hierarchical_tags_select_as_mne_does)
{
    btfm_dataset *ds = labelled();
    /* events: 0 gap, 1 stim/left, 2 resp, 3 stim/right, 4 left/resp, 5 stim,
     * 6 stim/left/strong, 7 stimulus */
    ck_assert_str_eq(selected(ds, "stim"), "1 3 5 6");
    ck_assert_str_eq(selected(ds, "left"), "1 4 6");
    ck_assert_str_eq(selected(ds, "left/stim"), "1 6");
    ck_assert_str_eq(selected(ds, "stim/left"), "1 6");
    ck_assert_str_eq(selected(ds, "resp/left"), "4");
    ck_assert_str_eq(selected(ds, "stimulus"), "7");
    ck_assert_str_eq(selected(ds, NULL), "1 2 3 4 5 6 7"); /* all but the gap */
    ck_assert_str_eq(selected(ds, "stim/"), "BTFM_E_NOTFOUND"); /* an empty tag */
    btfm_dataset_free(ds);
}
END_TEST

START_TEST(no_match_names_the_labels_and_counts_are_queried)
{
    btfm_dataset *ds = labelled();
    int64_t n = -1, idx[2];
    ck_assert_status(btfm_dataset_select_events(ds, "nope", NULL, 0, &n), BTFM_E_NOTFOUND);
    ck_assert_int_eq(n, 0);
    ck_assert_str_eq(btfm_last_error(), "btfm_dataset_select_events: <memory> has no event "
                     "labelled \"nope\" (nor one with the /-separated tags of it); its event "
                     "labels are: stim/left, resp, stim/right, left/resp, stim, "
                     "stim/left/strong, stimulus");
    ck_assert_ok(btfm_dataset_select_events(ds, "stim", NULL, 0, &n)); /* the count alone */
    ck_assert_int_eq(n, 4);
    ck_assert_status(btfm_dataset_select_events(ds, "stim", idx, 2, &n), BTFM_E_RANGE);
    ck_assert_int_eq(n, 4);
    ck_assert_status(btfm_dataset_select_events(NULL, "x", idx, 2, &n), BTFM_E_INVALID);
    /* epochs around no events: an error naming the labels, never an empty array */
    float out[4];
    int64_t kept = -1;
    ck_assert_status(btfm_dataset_epochs(ds, idx, 0, -0.1, 0.1, NAN, NAN, NULL, 0, out, &kept,
                                         NULL, NULL), BTFM_E_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(btfm_last_error(), "no events to cut epochs around (the "
                                 "recording's event labels are: stim/left"));
    btfm_dataset_free(ds);
    float data[10] = {0};
    ck_assert_ok(btfm_dataset_from_array(&ds, data, 10, 1, 10.0, NULL));
    ck_assert_status(btfm_dataset_select_events(ds, NULL, NULL, 0, &n), BTFM_E_NOTFOUND);
    ck_assert_str_eq(btfm_last_error(), "btfm_dataset_select_events: <memory> has no events");
    btfm_dataset_free(ds);
}
END_TEST

static Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");
    unit_set_timeout(tc, 0.1); /* seconds of work on an idle machine */
    tcase_add_test(tc, hierarchical_tags_select_as_mne_does);
    tcase_add_test(tc, no_match_names_the_labels_and_counts_are_queried);
    suite_add_tcase(s, tc);
    return s;
}

BTFM_UNIT_MAIN(events_suite)
