/*
 * ds_load.h - the "datastore.load" job: a CSV file into a new table, then the
 * resource switched to it atomically.
 */
#ifndef DG_DS_LOAD_H
#define DG_DS_LOAD_H

#include "jobs/jobs.h"

/*
 * Payload {"resource_id", "path", "options": {"strict", "types"}}. Pass 1
 * reads the whole file to infer types and count rows; pass 2 inserts batches
 * into ds_<hash>_<job id>, one transaction per batch with dg_job_save. Every
 * attempt starts from scratch (dropping its own half table first), so a
 * crash leaves the old table in force. Result: {"table", "rows", "bad_rows",
 * "errors": [{"line","column","message"}] (first 100), "fields", "source":
 * {"path", "options"}} (also kept as the table's report, for reloads).
 */
dg_rc dg_ds_load_run(struct dg_job *job, struct dg_err *err) DG_MUST;

#endif
