/*
 * ds_load.h - the "datastore.load" job: a CSV file into a new table, then the
 * resource switched to it atomically.
 */
#ifndef DG_DS_LOAD_H
#define DG_DS_LOAD_H

#include "jobs/jobs.h"

/*
 * Payload {"resource_id", "path", "options": {"strict", "types", "tabs"}}
 * ("tabs": true for a TSV file). Pass 1
 * reads the whole file to infer types and count rows; pass 2 copies batches
 * into ds_<hash>_<job id> (dg_db_copy_*), one transaction per batch with
 * dg_job_save. Then one transaction switches the resource to the new table
 * and drops the old one; indexes and ANALYZE follow on the live table. An
 * attempt before the switch starts from scratch (dropping its own half table
 * first), so a crash leaves the old table in force; one after it only builds
 * the indexes. Result: {"table", "rows", "bad_rows",
 * "errors": [{"line","column","message"}] (first 100), "fields", "source":
 * {"path", "options"}} (also kept as the table's report, for reloads).
 */
dg_rc dg_ds_load_run(struct dg_job *job, struct dg_err *err) DG_MUST;

#endif
