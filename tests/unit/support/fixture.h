/* fixture.h — the temporary data directory the unit tests share: one per
 * test (or group), made by fx_setup or fx_tmpdir and removed by fx_teardown.
 * Needs only sl_common; the engine helpers are in fixture_engine.h.
 *
 * There is one directory at a time (a static buffer): cmocka runs the tests
 * of a process one after another, so a test's set-up replaces the last
 * test's directory only after its teardown removed it. */
#ifndef SLUICE_TEST_FIXTURE_H
#define SLUICE_TEST_FIXTURE_H

/* Makes a fresh directory /tmp/<prefix>-XXXXXX and returns its path (the
 * fixture's buffer, valid until the next call), or NULL when it cannot. */
const char *fx_tmpdir(const char *prefix);

/* The path fx_tmpdir or fx_setup made last ("" before the first). */
const char *fx_dir(void);

/* cmocka set-up: a fresh directory named after the test program
 * (/tmp/sluice-<program>-XXXXXX); 0, or -1 when it cannot be made. */
int fx_setup(void **state);

/* cmocka teardown: removes the directory and everything under it; 0 or a
 * negative SL_* code. state is not used. */
int fx_teardown(void **state);

#endif
