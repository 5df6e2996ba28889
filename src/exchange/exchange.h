/*
 * exchange.h - data sharing between departments (政务数据共享): registries
 * declared in a schema file (policies/registries.yaml), their records and
 * change log, the shared-data directory, requests and grants (deny by
 * default), the signed exchange API for department systems, and each
 * resident's page of who used their data. Every read, refusal and grant
 * change is a record in the audit log (audit/audit.h).
 *
 * The registries' schema is found at $DGOV_REGISTRIES, or else at
 * policies/registries.yaml beside the templates folder.
 */
#ifndef DG_EXCHANGE_H
#define DG_EXCHANGE_H

#include "node/module.h"

extern const struct dg_module dg_exchange_module;

#endif
