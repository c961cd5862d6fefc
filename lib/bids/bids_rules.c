/* Validation rules that need no data: required sidecar fields by datatype, the leading
 * columns of events.tsv and channels.tsv, and the BIDS vocabularies (channel types,
 * acq_time) shared by the reader and the writer. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bids_internal.h"

/* Required members of the modality sidecar (BIDS: "REQUIRED" in each datatype's table). */
static const struct required_fields {
    const char *suffix;
    const char *fields[8];
} required[] = {
    {"eeg", {"TaskName", "SamplingFrequency", "PowerLineFrequency", "SoftwareFilters", "EEGReference"}},
    {"ieeg", {"TaskName", "SamplingFrequency", "PowerLineFrequency", "SoftwareFilters", "iEEGReference"}},
    {"meg", {"TaskName", "SamplingFrequency", "PowerLineFrequency", "DewarPosition", "SoftwareFilters",
             "DigitizedLandmarks", "DigitizedHeadPoints"}},
    {"nirs", {"TaskName", "SamplingFrequency", "NIRSChannelCount", "NIRSSourceOptodeCount",
              "NIRSDetectorOptodeCount"}},
    {"bold", {"TaskName"}},
    {"cbv", {"TaskName"}},
};

static btfm_status rule(const char *where, const char *name, const char *what)
{
    return btfm_fail(BTFM_E_FORMAT, "bids: %s: rule %s: %s", where, name, what);
}

static int positive_number(const btfm_json *v)
{
    double x = btfm_json_number(v);
    return btfm_json_kind_of(v) == BTFM_JSON_NUMBER && x > 0 && isfinite(x);
}

static btfm_status check_timing(const btfm_json *sidecar, const char *where)
{
    char what[512];
    const btfm_json *tr = btfm_json_get(sidecar, "RepetitionTime");
    const btfm_json *vt = btfm_json_get(sidecar, "VolumeTiming");
    if (tr && vt)
        return rule(where, "repetition-time-exclusive", "the sidecar has both RepetitionTime and "
                    "VolumeTiming (expected exactly one)");
    if (!tr && !vt)
        return rule(where, "sidecar-required", "the bold sidecar has neither RepetitionTime nor "
                    "VolumeTiming (expected exactly one)");
    if (tr && !positive_number(tr))
        return rule(where, "sidecar-type", "RepetitionTime must be a number of seconds above 0");
    if (vt) {
        size_t n = btfm_json_length(vt);
        if (btfm_json_kind_of(vt) != BTFM_JSON_ARRAY || n == 0)
            return rule(where, "sidecar-type", "VolumeTiming must be a non-empty array of onsets "
                        "in seconds");
        for (size_t i = 0; i < n; i++) {
            const btfm_json *x = btfm_json_at(vt, i);
            if (btfm_json_kind_of(x) != BTFM_JSON_NUMBER ||
                (i && !(btfm_json_number(x) > btfm_json_number(btfm_json_at(vt, i - 1))))) {
                snprintf(what, sizeof what, "VolumeTiming[%zu] must be a number above the one "
                         "before it (onsets in seconds, increasing)", i);
                return rule(where, "sidecar-type", what);
            }
        }
    }
    const btfm_json *st = btfm_json_get(sidecar, "SliceTiming");
    if (st) {
        double limit = tr ? btfm_json_number(tr) : INFINITY;
        if (btfm_json_kind_of(st) != BTFM_JSON_ARRAY)
            return rule(where, "slice-timing", "SliceTiming must be an array of seconds");
        for (size_t i = 0; i < btfm_json_length(st); i++) {
            double x = btfm_json_number(btfm_json_at(st, i));
            if (!(x >= 0 && x < limit)) {
                snprintf(what, sizeof what, "SliceTiming[%zu] = %g must lie in [0, %g) "
                         "(RepetitionTime)", i, x, limit);
                return rule(where, "slice-timing", what);
            }
        }
    }
    return BTFM_OK;
}

btfm_status btfm_bids_check_sidecar(const btfm_json *sidecar, const char *datatype,
                                    const char *suffix, const char *where)
{
    char what[512];
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        if (strcmp(suffix, required[i].suffix) != 0) continue;
        for (int k = 0; k < 8 && required[i].fields[k]; k++) {
            if (btfm_json_get(sidecar, required[i].fields[k])) continue;
            snprintf(what, sizeof what, "the %s sidecar (%s.json, merged from the root down) "
                     "lacks %s, which BIDS requires for %s data", suffix, suffix,
                     required[i].fields[k], datatype);
            return rule(where, "sidecar-required", what);
        }
    }
    const btfm_json *sf = btfm_json_get(sidecar, "SamplingFrequency");
    if (sf && strcmp(datatype, "func") != 0 && !positive_number(sf) &&
        !(strcmp(datatype, "nirs") == 0 && btfm_json_string(sf) && !strcmp(btfm_json_string(sf), "n/a")))
        return rule(where, "sidecar-type", "SamplingFrequency must be a number of Hz above 0");
    const btfm_json *plf = btfm_json_get(sidecar, "PowerLineFrequency");
    if (plf && !positive_number(plf) &&
        !(btfm_json_string(plf) && strcmp(btfm_json_string(plf), "n/a") == 0))
        return rule(where, "sidecar-type", "PowerLineFrequency must be a number of Hz above 0 "
                    "or \"n/a\"");
    if (strcmp(datatype, "func") == 0) return check_timing(sidecar, where);
    return BTFM_OK;
}

static btfm_status check_columns(const btfm_table *t, const char *where, const char *rule_name,
                                 const char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        const char *have = btfm_table_column_name(t, i);
        if (have && strcmp(have, names[i]) == 0) continue;
        char what[512];
        snprintf(what, sizeof what, "column %d is \"%s\", expected %s (the first columns must "
                 "be %s%s%s%s%s)", i + 1, have ? have : "(none)", names[i], names[0],
                 n > 1 ? ", " : "", n > 1 ? names[1] : "", n > 2 ? ", " : "", n > 2 ? names[2] : "");
        return rule(where, rule_name, what);
    }
    return BTFM_OK;
}

btfm_status btfm_bids_check_events_columns(const btfm_table *t, const char *where)
{
    static const char *const names[] = {"onset", "duration"};
    return check_columns(t, where, "events-columns", names, 2);
}

btfm_status btfm_bids_check_channels_columns(const btfm_table *t, const char *where)
{
    static const char *const names[] = {"name", "type", "units"};
    return check_columns(t, where, "channels-columns", names, 3);
}

btfm_status btfm_bids_check_recording(const btfm_bids *b, btfm_bids_recording *r)
{
    btfm_json *merged;
    btfm_status st = btfm_bids_merged_json(b, r, &merged);
    if (st) return st;
    st = btfm_bids_check_sidecar(merged, r->datatype, r->name.suffix, r->rel);
    if (!st && !r->metadata) st = btfm_json_dump(merged, &r->metadata, NULL);
    btfm_json_free(merged);
    /* The TSV sidecars it would use must be usable (checked once per file by the walk). */
    const btfm_bids_file *f[8];
    int n;
    if (!st) st = btfm_bids_sidecars(b, r, "events", ".tsv", f, 8, &n);
    if (!st) st = btfm_bids_sidecars(b, r, "channels", ".tsv", f, 8, &n);
    return st;
}

/* ---- vocabularies ---- */

static const struct { const char *bids; int type; } channel_types[] = {
    {"EEG", BTFM_CH_EEG}, {"EOG", BTFM_CH_EOG}, {"HEOG", BTFM_CH_EOG}, {"VEOG", BTFM_CH_EOG},
    {"ECG", BTFM_CH_ECG}, {"EMG", BTFM_CH_EMG}, {"MISC", BTFM_CH_MISC}, {"TRIG", BTFM_CH_STIM},
    {"ECOG", BTFM_CH_ECOG}, {"SEEG", BTFM_CH_SEEG}, {"DBS", BTFM_CH_DBS},
    {"MEGMAG", BTFM_CH_MEG_MAG}, {"MEGGRADAXIAL", BTFM_CH_MEG_GRAD},
    {"MEGGRADPLANAR", BTFM_CH_MEG_GRAD}, {"NIRSCWHBO", BTFM_CH_HBO}, {"NIRSCWHBR", BTFM_CH_HBR},
    {"NIRSCWAMPLITUDE", BTFM_CH_FNIRS_CW_AMPLITUDE}, {"NIRSCWOPTICALDENSITY", BTFM_CH_FNIRS_OD},
    {"EYEGAZE", BTFM_CH_GAZE}, {"PUPIL", BTFM_CH_PUPIL}, {"GSR", BTFM_CH_GSR},
    {"RESP", BTFM_CH_RESP}, {"PPG", BTFM_CH_PPG}, {"TEMP", BTFM_CH_TEMPERATURE},
};

int btfm_bids_channel_type(const char *bids_type)
{
    for (size_t i = 0; i < sizeof channel_types / sizeof *channel_types; i++)
        if (strcasecmp(bids_type, channel_types[i].bids) == 0) return channel_types[i].type;
    return 0;
}

const char *btfm_bids_channel_type_name(int type)
{
    for (size_t i = 0; i < sizeof channel_types / sizeof *channel_types; i++)
        if (channel_types[i].type == type) return channel_types[i].bids;
    return "MISC";
}

int btfm_bids_parse_time(const char *text, double *seconds)
{
    int y, mo, d, h, mi, s, used = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) != 6 ||
        used != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return -1;
    const char *p = text + used;
    double fraction = 0;
    if (*p == '.') {
        double scale = 0.1;
        if (!isdigit((unsigned char)*++p)) return -1;
        for (; isdigit((unsigned char)*p); p++, scale /= 10) fraction += (*p - '0') * scale;
    }
    if (*p == 'Z') p++;
    if (*p) return -1;
    *seconds = (double)(btfm_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) + fraction;
    return 0;
}

void btfm_bids_format_time(double seconds, char *out, size_t cap)
{
    double whole = floor(seconds);
    int64_t micro = llround((seconds - whole) * 1e6);
    int64_t t = (int64_t)whole;
    if (micro >= 1000000) {
        t++;
        micro -= 1000000;
    }
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t rem = t - days * 86400;
    /* civil_from_days (Hinnant) */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1), m = (int)(mp < 10 ? mp + 3 : mp - 9);
    int64_t y = yoe + era * 400 + (m <= 2);
    int n = snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (micro && n > 0 && (size_t)n < cap) snprintf(out + n, cap - (size_t)n, ".%06lld", (long long)micro);
}
