/* btfm anonymize: write a de-identified copy of a recording (subject and recording
 * identifiers cleared, start date moved to 1985-01-01 as BIDS does). */
#include "cli.h"

int cmd_anonymize(int argc, char **argv)
{
    return cli_copy_dataset("anonymize", argc, argv, BTFM_SAVE_ANONYMIZE);
}
