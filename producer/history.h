/*
 * history.h — the check history's upkeep (migration 009): settings synced
 * from the config, monthly partitions created and dropped.
 */
#ifndef NT_PRODUCER_HISTORY_H
#define NT_PRODUCER_HISTORY_H

#include <stdint.h>

#include "cli.h"

typedef struct history_stats_s {
    uint64_t created; /* partitions created */
    uint64_t moved;   /* rows moved out of the default partition */
    uint64_t dropped; /* partitions dropped (older than history.keep_months) */
} history_stats_t;

/* Copies history.keep_months and history.trust_delta into history_settings
 * and runs nt_history_maintain() on pg. 0, or an error in err. */
int history_maintain(cli_t *cli, nt_pg_t *pg, history_stats_t *st, nt_err_t *err);

/* `numtrust-producer history [show|maintain]`. */
int cmd_history(cli_t *cli, int argc, char **argv);

#endif
