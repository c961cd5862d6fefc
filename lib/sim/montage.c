/* EEG sites of the 10-20, 10-10 and 10-5 systems on an idealized spherical head: a site's
 * row is a fraction of the nasion-inion arc, its column a number of 18-degree steps from
 * the midline (odd left, even right, "h" half a step nearer), the geometry the systems are
 * defined by (Oostenveld & Praamstra 2001) without a real head's shape. */
#include <stdlib.h>
#include <string.h>
#include "sim_internal.h"

/* The montage order: the 32-channel cap, the 32 sites that complete the 64-channel 10-10
 * cap, then 64 sites of the 10-10 and 10-5 systems. */
static const char *const montage_order[SIM_MONTAGE_MAX] = {
    "Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "FC5", "FC1", "FC2", "FC6", "T7", "C3", "Cz",
    "C4", "T8", "TP9", "CP5", "CP1", "CP2", "CP6", "TP10", "P7", "P3", "Pz", "P4", "P8",
    "PO9", "O1", "Oz", "O2", "PO10",
    "AF7", "AF3", "AF4", "AF8", "F5", "F1", "F2", "F6", "FT9", "FT7", "FC3", "FC4", "FT8",
    "FT10", "C5", "C1", "C2", "C6", "TP7", "CP3", "CPz", "CP4", "TP8", "P5", "P1", "P2",
    "P6", "PO7", "PO3", "POz", "PO4", "PO8",
    "Fpz", "AFz", "FCz", "Iz", "F9", "F10", "T9", "T10", "P9", "P10", "I1", "I2",
    "AFF1h", "AFF2h", "AFF5h", "AFF6h", "FFC1h", "FFC2h", "FFC3h", "FFC4h", "FFC5h",
    "FFC6h", "FTT7h", "FTT8h", "FCC1h", "FCC2h", "FCC3h", "FCC4h", "FCC5h", "FCC6h",
    "TTP7h", "TTP8h", "CCP1h", "CCP2h", "CCP3h", "CCP4h", "CCP5h", "CCP6h", "TPP7h",
    "TPP8h", "CPP1h", "CPP2h", "CPP3h", "CPP4h", "CPP5h", "CPP6h", "PPO1h", "PPO2h",
    "PPO5h", "PPO6h", "PPO9h", "PPO10h", "POO1", "POO2", "POO9h", "POO10h", "OI1h", "OI2h",
    "AFp1", "AFp2", "AF5", "AF6", "FFT7h", "FFT8h",
};

/* Row prefixes and their place on the nasion (0) - inion (1) arc; longest first. */
static const struct {
    const char *prefix;
    double fraction;
} rows[] = {
    {"AFF", 0.25}, {"FFC", 0.35}, {"FFT", 0.35}, {"FCC", 0.45}, {"FTT", 0.45},
    {"CCP", 0.55}, {"TTP", 0.55}, {"CPP", 0.65}, {"TPP", 0.65}, {"PPO", 0.75},
    {"POO", 0.85}, {"AFp", 0.15}, {"Fp", 0.10}, {"AF", 0.20}, {"FC", 0.40}, {"FT", 0.40},
    {"CP", 0.60}, {"TP", 0.60}, {"PO", 0.80}, {"OI", 0.95}, {"F", 0.30}, {"C", 0.50},
    {"T", 0.50}, {"P", 0.70}, {"O", 0.90}, {"I", 1.00},
};

int btfm_sim_site_position(const char *label, double position[3])
{
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        size_t n = strlen(rows[r].prefix);
        if (strncmp(label, rows[r].prefix, n) != 0) continue;
        const char *col = label + n;
        double steps;
        int side = 0;
        if (strcmp(col, "z") == 0) {
            steps = 0;
        } else {
            char *end;
            long number = strtol(col, &end, 10);
            if (end == col || number < 1 || number > 10 || (*end && strcmp(end, "h") != 0))
                continue;
            steps = (double)((number + 1) / 2) - (*end ? 0.5 : 0.0);
            side = number % 2 ? -1 : 1;
        }
        /* From the vertex: sideways by the column's angle, then along the midline. */
        double lateral = side * steps * (SIM_PI / 10), forward = (0.5 - rows[r].fraction) * SIM_PI;
        double sl, cl, sf, cf;
        btfm_sim_sincos(lateral, &sl, &cl);
        btfm_sim_sincos(forward, &sf, &cf);
        position[0] = sl;
        position[1] = cl * sf;
        position[2] = cl * cf;
        return 1;
    }
    return 0;
}

void btfm_sim_montage(int n_channels, const char **names, double (*positions)[3])
{
    for (int c = 0; c < n_channels && c < SIM_MONTAGE_MAX; c++) {
        names[c] = montage_order[c];
        btfm_sim_site_position(montage_order[c], positions[c]);
    }
}
