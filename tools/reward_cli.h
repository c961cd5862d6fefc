/* btfm reward's subcommands beyond fit and score: pair-scores (reward_pairs.c) and the
 * embedding-to-brain encoder (reward_encoder.c); argv as cmd_reward gets it. */
#ifndef BTFM_TOOLS_REWARD_CLI_H
#define BTFM_TOOLS_REWARD_CLI_H

int reward_pair_scores_command(int argc, char **argv);
int reward_encoder_command(int argc, char **argv);

#endif
