/* fixture_engine.h — opening a storage engine, writing line protocol into it
 * and counting what a table holds, as the unit tests of storage and of what
 * stands on it (query, api) do.
 * The helpers fail the running cmocka test (or set-up) on any error, so a
 * test reads as its scenario; fx_write is the one that returns instead, for
 * tests about the write path itself. Links sl_storage (sl_testfixture_engine). */
#ifndef SLUICE_TEST_FIXTURE_ENGINE_H
#define SLUICE_TEST_FIXTURE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "lp/lp.h"
#include "storage/engine.h"

/* The "now" of writes that do not name one: 2023-11-14T22:13:20Z. */
#define FX_NOW_NS 1700000000000000000LL

/* Opens the engine with its data in dir (default options); fails the test,
 * with engine_open's message on stderr, when it cannot. engine_close it. */
struct engine *fx_open_engine(const char *dir);

/* engine_write of body (NUL-terminated) into db, which it may create, at
 * precision p with now FX_NOW_NS; all_or_nothing as in struct write_req.
 * Returns engine_write's code; the caller releases *res. */
int fx_write(struct engine *e, const char *db, const char *body, enum lp_precision p,
             int all_or_nothing, struct write_result *res);

/* Writes body into db at precision p with now FX_NOW_NS; fails the test
 * unless the write succeeds and every line is accepted. */
void fx_write_lp(struct engine *e, const char *db, const char *body, enum lp_precision p);

/* fx_write_lp for len bytes of body with now_ns as the time of lines that
 * carry none. */
void fx_write_lp_at(struct engine *e, const char *db, const char *body, size_t len,
                    enum lp_precision p, int64_t now_ns);

/* The rows of db.table through storage_scan (files and buffer merged; 0 when
 * the database or table does not exist) and, when sum is not NULL, the sum of
 * the valid values of the numeric field (0 when there is no such field);
 * fails the test when the scan fails. */
size_t fx_count_rows(struct engine *e, const char *db, const char *table, const char *field,
                     double *sum);

#endif
