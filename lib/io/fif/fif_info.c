/* The measurement info of a FIF file (FIFFB_MEAS_INFO): channel records (kind, coil type,
 * range and calibration, unit, location, name), the rate, the date, the device-to-head
 * transform, long channel names and bad channels; and the dataset channels made from
 * them: value = stored number x range x cal in the channel's unit (MNE's rule). */
#include <math.h>
#include <string.h>
#include "fif_internal.h"

/* Channel kinds (FIFFV_*_CH) and the coil types that tell fNIRS channels apart. */
enum {
    KIND_MEG = 1, KIND_EEG = 2, KIND_STIM = 3, KIND_BIO = 102, KIND_MCG = 201, KIND_EOG = 202,
    KIND_REF_MEG = 301, KIND_EMG = 302, KIND_ECG = 402, KIND_MISC = 502, KIND_RESP = 602,
    KIND_SEEG = 802, KIND_DBS = 803, KIND_ECOG = 902, KIND_FNIRS = 1100,
    KIND_TEMPERATURE = 1200, KIND_GALVANIC = 1300
};
enum { UNIT_T = 112, UNIT_T_M = 201 };
enum { COIL_FNIRS_HBO = 300, COIL_FNIRS_HBR = 301, COIL_FNIRS_CW = 302, COIL_FNIRS_OD = 303 };
enum { COORD_DEVICE = 1, COORD_HEAD = 4 };

static const char *name_of(const fif_file *f) { return f->path ? f->path : "fif"; }

static btfm_status read_ch_info(const fif_file *f, const fif_tag *tag, fif_channel *c)
{
    if (tag->type != FIFFT_CH_INFO_STRUCT || tag->size < FIFF_CH_INFO_SIZE)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: channel info tag at byte %lld has type %u and "
                         "%d bytes; expected type 30 and 96 bytes", name_of(f),
                         (long long)tag->pos, tag->type, tag->size);
    unsigned char b[FIFF_CH_INFO_SIZE];
    btfm_status st = btfm_fif_pread(f, b, sizeof b, tag->pos + FIFF_TAG_HEADER);
    if (st) return st;
    float x;
    uint32_t u;
    c->kind = (int32_t)btfm_fif_be32(b + 8);
    u = btfm_fif_be32(b + 12);
    memcpy(&x, &u, 4);
    c->range = x;
    u = btfm_fif_be32(b + 16);
    memcpy(&x, &u, 4);
    c->cal = x;
    c->coil_type = (int32_t)btfm_fif_be32(b + 20);
    for (int i = 0; i < 12; i++) {
        u = btfm_fif_be32(b + 24 + 4 * i);
        memcpy(&x, &u, 4);
        c->loc[i] = x;
    }
    c->unit = (int32_t)btfm_fif_be32(b + 72);
    c->unit_mul = (int32_t)btfm_fif_be32(b + 76);
    size_t len = strnlen((const char *)b + 80, 16);
    char *name = btfm_text_to_utf8((const char *)b + 80, len);
    if (!name) return btfm_fail_nomem("fif", 64);
    strcpy(c->name, name);
    btfm_free(name);
    if (!isfinite(c->range) || !isfinite(c->cal))
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: channel %s (byte %lld): range %g and cal %g "
                         "must be finite", name_of(f), c->name, (long long)tag->pos, c->range, c->cal);
    return BTFM_OK;
}

/* Coordinate transform struct: from, to, rotation (3x3), move (3) as floats, then the
 * inverse (ignored). */
static btfm_status read_transform(const fif_file *f, const fif_tag *tag, int32_t *from,
                                  int32_t *to, double m[12])
{
    if (tag->type != FIFFT_COORD_TRANS_STRUCT || tag->size < 104)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: transform tag at byte %lld has type %u and %d "
                         "bytes; expected type 35 and 104 bytes", name_of(f),
                         (long long)tag->pos, tag->type, tag->size);
    unsigned char b[56];
    btfm_status st = btfm_fif_pread(f, b, sizeof b, tag->pos + FIFF_TAG_HEADER);
    if (st) return st;
    *from = (int32_t)btfm_fif_be32(b);
    *to = (int32_t)btfm_fif_be32(b + 4);
    for (int i = 0; i < 12; i++) {
        uint32_t u = btfm_fif_be32(b + 8 + 4 * i);
        float x;
        memcpy(&x, &u, 4);
        m[i] = x;
    }
    return BTFM_OK;
}

/* The device-to-head transform: in the info, else in an HPI result block. A head-to-
 * device transform is inverted (BabyMEG writes it that way round, MNE notes). */
static btfm_status read_dev_head(fif_info *info, const fif_file *f, const fif_tree *t)
{
    for (int pass = 0; pass < 2 && !info->has_dev_head; pass++) {
        int32_t block = pass == 0 ? info->info_block
                                  : btfm_fif_find_block(t, FIFFB_HPI_RESULT, info->info_block, -1);
        if (block < 0) continue;
        for (int64_t i = 0; i < t->n_tags && !info->has_dev_head; i++) {
            const fif_tag *tag = &t->tags[i];
            if (tag->block != block || tag->kind != FIFF_COORD_TRANS) continue;
            int32_t from = 0, to = 0;
            double m[12];
            btfm_status st = read_transform(f, tag, &from, &to, m);
            if (st) return st;
            if (from == COORD_DEVICE && to == COORD_HEAD) {
                memcpy(info->dev_head, m, sizeof m);
                info->has_dev_head = 1;
            } else if (from == COORD_HEAD && to == COORD_DEVICE) {
                for (int r = 0; r < 3; r++) /* R' = R^T, t' = -R^T t */
                    for (int c = 0; c < 3; c++) info->dev_head[3 * r + c] = m[3 * c + r];
                for (int r = 0; r < 3; r++)
                    info->dev_head[9 + r] = -(m[r] * m[9] + m[3 + r] * m[10] + m[6 + r] * m[11]);
                info->has_dev_head = 1;
            }
        }
    }
    return BTFM_OK;
}

/* Long names from the extended channel info blocks (FIFFB_CH_INFO, one per channel, in
 * channel order), which MNE writes when a name does not fit the 16-byte field. */
static btfm_status read_long_names(fif_info *info, const fif_file *f, const fif_tree *t)
{
    int n = 0;
    for (int32_t b = btfm_fif_find_block(t, FIFFB_CH_INFO, info->info_block, -1); b >= 0;
         b = btfm_fif_find_block(t, FIFFB_CH_INFO, info->info_block, b)) {
        if (n == info->n_channels)
            return btfm_fail(BTFM_E_FORMAT, "fif: %s: more extended channel info blocks than "
                             "the %d channels (byte %lld)", name_of(f), info->n_channels,
                             (long long)t->blocks[b].pos);
        const fif_tag *tag = btfm_fif_find_tag(t, b, FIFF_CH_DACQ_NAME);
        fif_channel *c = &info->channels[n++];
        if (!tag) continue;
        btfm_status st = btfm_fif_read_string(f, tag, &c->long_name);
        if (st) return st;
    }
    if (n && n != info->n_channels)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: %d extended channel info blocks for %d "
                         "channels", name_of(f), n, info->n_channels);
    return BTFM_OK;
}

btfm_status btfm_fif_info_read(fif_info *info, const fif_file *f, const fif_tree *t)
{
    memset(info, 0, sizeof *info);
    info->meas_block = btfm_fif_find_block(t, FIFFB_MEAS, -1, -1);
    info->info_block = info->meas_block < 0 ? -1
                                            : btfm_fif_find_block(t, FIFFB_MEAS_INFO, info->meas_block, -1);
    if (info->info_block < 0)
        return btfm_fail(BTFM_E_FORMAT, "fif: %s: no measurement info (block 101 inside block "
                         "100)", name_of(f));
    int32_t n_chan = -1;
    int have_sfreq = 0, k = 0;
    btfm_status st = BTFM_OK;
    for (int64_t i = 0; i < t->n_tags && !st; i++) {
        const fif_tag *tag = &t->tags[i];
        if (tag->block != info->info_block) continue;
        if (tag->kind == FIFF_NCHAN) {
            if (n_chan >= 0) continue;
            if ((st = btfm_fif_read_int(f, tag, &n_chan))) break;
            if (n_chan < 1 || n_chan > 65536) {
                st = btfm_fail(BTFM_E_FORMAT, "fif: %s: %d channels (byte %lld); expected 1 to "
                               "65536", name_of(f), n_chan, (long long)tag->pos);
                break;
            }
            if (!(info->channels = btfm_calloc((size_t)n_chan, sizeof *info->channels)))
                st = btfm_fail_nomem("fif channels", (size_t)n_chan * sizeof *info->channels);
            info->n_channels = n_chan;
        } else if (tag->kind == FIFF_SFREQ) {
            st = btfm_fif_read_double(f, tag, &info->sfreq);
            have_sfreq = 1;
        } else if (tag->kind == FIFF_CH_INFO) {
            if (n_chan < 0 || k >= n_chan) {
                st = btfm_fail(BTFM_E_FORMAT, "fif: %s: channel info at byte %lld %s",
                               name_of(f), (long long)tag->pos, n_chan < 0
                                   ? "comes before the channel count (FIFF_NCHAN)"
                                   : "is one more than the channel count");
                break;
            }
            st = read_ch_info(f, tag, &info->channels[k++]);
        } else if (tag->kind == FIFF_MEAS_DATE && !info->has_meas_date) {
            int32_t v[2] = {0, 0};
            if (tag->type == FIFFT_INT && tag->size >= 8) st = btfm_fif_read_ints(f, tag, v, 2);
            else st = btfm_fif_read_int(f, tag, v);
            info->meas_date = (double)v[0] + (double)v[1] * 1e-6;
            info->has_meas_date = !st;
        }
    }
    if (!st && n_chan < 0)
        st = btfm_fail(BTFM_E_FORMAT, "fif: %s: the measurement info has no channel count "
                       "(FIFF_NCHAN)", name_of(f));
    if (!st && (!have_sfreq || !(info->sfreq > 0) || !isfinite(info->sfreq)))
        st = btfm_fail(BTFM_E_FORMAT, "fif: %s: the sampling frequency is %s; expected a "
                       "positive finite number", name_of(f), have_sfreq ? "not positive" : "missing");
    if (!st && k != n_chan)
        st = btfm_fail(BTFM_E_FORMAT, "fif: %s: %d channel info records for %d channels",
                       name_of(f), k, n_chan);
    if (!st) st = read_dev_head(info, f, t);
    if (!st) st = read_long_names(info, f, t);
    if (st) btfm_fif_info_clear(info);
    return st;
}

void btfm_fif_info_clear(fif_info *info)
{
    for (int i = 0; info->channels && i < info->n_channels; i++) btfm_free(info->channels[i].long_name);
    btfm_free(info->channels);
    memset(info, 0, sizeof *info);
}

/* ---- dataset channels ---- */

static int channel_type(const fif_channel *c)
{
    switch (c->kind) {
    case KIND_MEG: return c->unit == UNIT_T_M ? BTFM_CH_MEG_GRAD : BTFM_CH_MEG_MAG;
    case KIND_EEG: return BTFM_CH_EEG;
    case KIND_STIM: return BTFM_CH_STIM;
    case KIND_EOG: return BTFM_CH_EOG;
    case KIND_EMG: return BTFM_CH_EMG;
    case KIND_ECG: return BTFM_CH_ECG;
    case KIND_RESP: return BTFM_CH_RESP;
    case KIND_SEEG: return BTFM_CH_SEEG;
    case KIND_DBS: return BTFM_CH_DBS;
    case KIND_ECOG: return BTFM_CH_ECOG;
    case KIND_TEMPERATURE: return BTFM_CH_TEMPERATURE;
    case KIND_GALVANIC: return BTFM_CH_GSR;
    case KIND_FNIRS:
        switch (c->coil_type) {
        case COIL_FNIRS_HBO: return BTFM_CH_HBO;
        case COIL_FNIRS_HBR: return BTFM_CH_HBR;
        case COIL_FNIRS_CW: return BTFM_CH_FNIRS_CW_AMPLITUDE;
        case COIL_FNIRS_OD: return BTFM_CH_FNIRS_OD;
        default: return BTFM_CH_MISC;
        }
    default: return BTFM_CH_MISC; /* reference MEG, MCG, BIO, system, IAS, ... */
    }
}

/* SI unit names of the FIFF unit codes (FIFF_UNIT_*); "" for unitless and unknown. */
static const char *unit_name(int32_t unit)
{
    static const struct { int32_t code; const char *name; } units[] = {
        {1, "m"}, {2, "kg"}, {3, "s"}, {4, "A"}, {5, "K"}, {6, "mol"}, {7, "rad"}, {8, "sr"},
        {9, "cd"}, {10, "mol/m^3"}, {101, "Hz"}, {102, "N"}, {103, "Pa"}, {104, "J"},
        {105, "W"}, {106, "C"}, {107, "V"}, {108, "F"}, {109, "Ohm"}, {110, "S"}, {111, "Wb"},
        {112, "T"}, {113, "H"}, {114, "Cel"}, {115, "lm"}, {116, "lx"}, {117, "V/m^2"},
        {201, "T/m"}, {202, "Am"}, {203, "Am/m^2"}, {204, "Am/m^3"},
    };
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (units[i].code == unit) return units[i].name;
    return "";
}

/* The frame a channel's location is given in (MNE's _ch_coord_dict): device for MEG
 * sensors, head for electrodes and optodes, none for the rest. */
static int location_frame(const fif_channel *c)
{
    switch (c->kind) {
    case KIND_MEG: case KIND_REF_MEG: return COORD_DEVICE;
    case KIND_EEG: case KIND_ECOG: case KIND_SEEG: case KIND_DBS: case KIND_FNIRS: return COORD_HEAD;
    default: return 0;
    }
}

static int has_location(const fif_channel *c)
{
    int any = 0;
    for (int i = 0; i < 3; i++) {
        if (!isfinite(c->loc[i])) return 0;
        any |= c->loc[i] != 0;
    }
    return any; /* MNE writes zeros for channels without a location */
}

/* Positions in the head frame: MEG sensor locations through the device-to-head transform.
 * Without that transform, a file with MEG sensors keeps the device frame and drops the
 * head-frame locations (they cannot be expressed in one frame). */
static btfm_status set_positions(btfm_dataset *ds, const fif_info *info)
{
    int any_device = 0;
    for (int i = 0; i < info->n_channels; i++)
        any_device |= has_location(&info->channels[i]) && location_frame(&info->channels[i]) == COORD_DEVICE;
    int frame = info->has_dev_head || !any_device ? COORD_HEAD : COORD_DEVICE;
    int dropped = 0, any = 0;
    btfm_status st = BTFM_OK;
    for (int i = 0; i < info->n_channels && !st; i++) {
        const fif_channel *c = &info->channels[i];
        int from = location_frame(c);
        if (!from || !has_location(c)) continue;
        double p[3] = {c->loc[0], c->loc[1], c->loc[2]};
        if (from == COORD_DEVICE && frame == COORD_HEAD) {
            const double *m = info->dev_head;
            for (int r = 0; r < 3; r++)
                p[r] = m[3 * r] * c->loc[0] + m[3 * r + 1] * c->loc[1] + m[3 * r + 2] * c->loc[2] + m[9 + r];
        } else if (from != frame) {
            dropped++;
            continue;
        }
        st = btfm_dataset_set_channel_position(ds, i, p);
        any = 1;
    }
    if (!st && any) st = btfm_dataset_set_coordinate_frame(ds, frame == COORD_HEAD ? "head" : "device");
    if (!st && dropped)
        btfm_warn("fif: %s: %d electrode position%s left out: %s in the head frame and the "
                  "file has no device-to-head transform for its MEG sensors", ds->path, dropped,
                  dropped == 1 ? " is" : "s are", dropped == 1 ? "it is" : "they are");
    return st;
}

/* Bad channels: FIFFB_MNE_BAD_CHANNELS's colon-separated name list. */
static btfm_status mark_bads(btfm_dataset *ds, const fif_info *info, const fif_file *f,
                             const fif_tree *t)
{
    int32_t b = btfm_fif_find_block(t, FIFFB_MNE_BAD_CHANNELS, info->meas_block, -1);
    const fif_tag *tag = b < 0 ? NULL : btfm_fif_find_tag(t, b, FIFF_MNE_CH_NAME_LIST);
    if (!tag) return BTFM_OK;
    char *list;
    btfm_status st = btfm_fif_read_string(f, tag, &list);
    if (st) return st;
    for (char *name = list, *end; *name; name = *end ? end + 1 : end) {
        end = strchr(name, ':');
        if (!end) end = name + strlen(name);
        char saved = *end;
        *end = '\0';
        for (int i = 0; i < info->n_channels; i++) {
            const fif_channel *c = &info->channels[i];
            if (strcmp(c->name, name) == 0 || (c->long_name && strcmp(c->long_name, name) == 0))
                ds->channels[i].bad = 1;
        }
        *end = saved;
    }
    btfm_free(list);
    return BTFM_OK;
}

btfm_status btfm_fif_fill_channels(btfm_dataset *ds, const fif_info *info, const fif_file *f,
                                   const fif_tree *t)
{
    for (int i = 0; i < info->n_channels; i++) {
        const fif_channel *fc = &info->channels[i];
        btfm_channel *c = &ds->channels[i];
        const char *name = fc->long_name && *fc->long_name ? fc->long_name : fc->name;
        const char *unit = unit_name(fc->unit);
        if (btfm_io_strdup(&c->name, name, strlen(name)) || btfm_io_strdup(&c->unit, unit, strlen(unit)) ||
            btfm_io_strdup(&c->stored_unit, unit, strlen(unit)) || btfm_io_strdup(&c->transducer, "", 0) ||
            btfm_io_strdup(&c->prefilter, "", 0))
            return btfm_fail_nomem("fif channels", 64);
        c->type = channel_type(fc);
        c->rate = info->sfreq;
        c->gain = fc->range * fc->cal;
        c->offset = 0;
    }
    btfm_status st = set_positions(ds, info);
    return st ? st : mark_bads(ds, info, f, t);
}
