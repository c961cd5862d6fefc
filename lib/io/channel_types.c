/* Channel type names, type guesses from EDF-style labels, and unit conversion to SI. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include "dataset_internal.h"

static const char *type_names[] = {
    NULL, "eeg", "eog", "ecg", "emg", "misc", "stim", "ecog", "seeg", "dbs", "meg_mag",
    "meg_grad", "hbo", "hbr", "fnirs_cw_amplitude", "fnirs_od", "bold", "gaze", "pupil",
    "gsr", "resp", "ppg", "temperature",
};
#define TYPE_COUNT ((int)(sizeof type_names / sizeof *type_names))

const char *btfm_channel_type_name(int type)
{
    return type > 0 && type < TYPE_COUNT ? type_names[type] : NULL;
}

int btfm_channel_type_from_name(const char *name)
{
    if (!name) return 0;
    for (int t = 1; t < TYPE_COUNT; t++)
        if (strcasecmp(name, type_names[t]) == 0) return t;
    return 0;
}

/* EDF+ labels start with the signal type ("EEG Fpz-Cz", "EOG horizontal"); other files
 * use bare names. The first word decides; anything unknown is EEG, as MNE assumes. */
int btfm_channel_type_from_label(const char *label)
{
    static const struct { const char *word; int type; } words[] = {
        {"EEG", BTFM_CH_EEG}, {"EOG", BTFM_CH_EOG}, {"HEOG", BTFM_CH_EOG}, {"VEOG", BTFM_CH_EOG},
        {"ECG", BTFM_CH_ECG}, {"EKG", BTFM_CH_ECG}, {"EMG", BTFM_CH_EMG},
        {"STATUS", BTFM_CH_STIM}, {"STI", BTFM_CH_STIM}, {"TRIGGER", BTFM_CH_STIM},
        {"TRIG", BTFM_CH_STIM}, {"RESP", BTFM_CH_RESP}, {"TEMP", BTFM_CH_TEMPERATURE},
        {"ECOG", BTFM_CH_ECOG}, {"SEEG", BTFM_CH_SEEG}, {"GSR", BTFM_CH_GSR},
        {"EDA", BTFM_CH_GSR}, {"PPG", BTFM_CH_PPG}, {"PLETH", BTFM_CH_PPG},
        {"SPO2", BTFM_CH_MISC}, {"SAO2", BTFM_CH_MISC}, {"MISC", BTFM_CH_MISC},
    };
    /* MNE's haemoglobin channel names, "S1_D2 hbo" and "S1_D2 hbr". */
    size_t len = strlen(label);
    if (len > 6 && (label[0] == 'S' || label[0] == 's') && strstr(label, "_D") &&
        label[len - 4] == ' ' && (strcasecmp(label + len - 3, "hbo") == 0 ||
                                  strcasecmp(label + len - 3, "hbr") == 0))
        return tolower((unsigned char)label[len - 1]) == 'o' ? BTFM_CH_HBO : BTFM_CH_HBR;
    size_t n = 0;
    while (label[n] && (isalnum((unsigned char)label[n]))) n++;
    /* "STI 014", "STI014": a word prefix followed by digits counts too. */
    size_t letters = 0;
    while (letters < n && isalpha((unsigned char)label[letters])) letters++;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t w = strlen(words[i].word);
        if ((w == n || w == letters) && strncasecmp(label, words[i].word, w) == 0)
            return words[i].type;
    }
    return BTFM_CH_EEG;
}

int btfm_unit_to_si(const char *stored, double *factor, const char **si)
{
    static const struct { const char *unit; double factor; } volts[] = {
        {"V", 1.0}, {"mV", 1e-3}, {"uV", 1e-6}, {"\xC2\xB5V", 1e-6}, /* µ micro sign */
        {"\xCE\xBCV", 1e-6}, /* μ Greek mu */ {"nV", 1e-9},
    };
    for (size_t i = 0; i < sizeof volts / sizeof *volts; i++)
        if (strcmp(stored, volts[i].unit) == 0) {
            *factor = volts[i].factor;
            *si = "V";
            return 1;
        }
    *factor = 1.0;
    *si = stored;
    return 0;
}
