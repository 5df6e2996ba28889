/*
 * fuzz_rule_common.h - shared by the rule fuzz targets: a fixed registry
 * schema written once to a temporary folder, so inputs can be rule text
 * alone.
 */
#ifndef FUZZ_RULE_COMMON_H
#define FUZZ_RULE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fuzz_dir[256];

static const char fuzz_schema[] =
	"entities:\n"
	"  person:\n"
	"    file: p.csv\n"
	"    fields: {birth_date: date, region: code, grade: int, vet: bool, m: money,"
	" hh: link household, emp: link enterprise, income: monthly money,"
	" insured: monthly bool}\n"
	"  household:\n"
	"    file: h.csv\n"
	"    fields: {region: code, area: int}\n"
	"    groups: {members: person.hh}\n"
	"  enterprise:\n"
	"    file: e.csv\n"
	"    fields: {region: code, rep: link person, staff: monthly int}\n"
	"    groups: {employees: person.emp}\n"
	"benefits: b.csv\n";

static void fuzz_write_schema(void)
{
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/dg_fuzz_rule_%d", (int)getpid());
	char path[300];
	snprintf(path, sizeof(path), "%s", fuzz_dir);
	if (mkdir(path, 0700) != 0 && access(path, F_OK) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/schema.yaml", fuzz_dir);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(fuzz_schema, f);
	fclose(f);
}

#endif
