/*
 * engine_int.h — what the storage subsystem's files share with each other and
 * nobody else: in-flight WAL tracking and record replay.
 */
#ifndef SL_STORAGE_ENGINE_INT_H
#define SL_STORAGE_ENGINE_INT_H

#include <stddef.h>
#include <stdint.h>

struct engine;

/* A write about to append a WAL record whose LSN will be >= floor; the WAL
 * may not be trimmed past it until the record is applied. */
int engine_inflight_add(struct engine *e, uint64_t floor);
void engine_inflight_remove(struct engine *e, uint64_t floor);

/* Applies one WAL record (replay). Lines that no longer fit the catalog are
 * skipped and counted. SL_ECORRUPT for an unknown record layout. */
int engine_apply_record(struct engine *e, uint64_t lsn, const void *rec, size_t len,
                        size_t *applied, size_t *skipped);

#endif
