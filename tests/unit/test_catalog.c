/* test_catalog.c — catalog persistence and token store (hashing, auth, permissions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "catalog/catalog.h"
#include "catalog/tokens.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sluice-cat-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return sl_remove_tree(dir);
}

static void test_catalog_roundtrip(void **state)
{
    (void)state;
    char err[256];
    struct catalog *c;
    assert_int_equal(catalog_open(dir, &c, err, sizeof(err)), 0);
    catalog_wrlock(c);
    struct cat_db *db;
    assert_int_equal(catalog_db_create(c, "mydb", 4, 0, &db), 0);
    assert_int_equal(catalog_db_create(c, "mydb", 4, 0, NULL), SL_EEXIST);
    struct cat_table *t;
    assert_int_equal(catalog_table_create(c, db, "cpu", 3, &t), 0);
    assert_int_equal(cat_table_column_add(t, "host", 4, CAT_COL_TAG, LP_STRING, NULL), 0);
    for (int i = 0; i < 100; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i);
        assert_int_equal(cat_table_column_add(t, name, strlen(name), CAT_COL_FIELD, LP_FLOAT, NULL),
                         0);
    }
    assert_int_equal(catalog_persist(c), 0);
    assert_int_equal(catalog_db_create(c, "gone", 4, 7, &db), 0);
    assert_int_equal(catalog_db_drop(c, db), 0);
    catalog_unlock(c);
    catalog_close(c);

    assert_int_equal(catalog_open(dir, &c, err, sizeof(err)), 0);
    catalog_rdlock(c);
    assert_null(catalog_db_get(c, "gone", 4));
    db = catalog_db_get(c, "mydb", 4);
    assert_non_null(db);
    t = cat_db_table_get(db, "cpu", 3);
    assert_non_null(t);
    assert_int_equal(t->ncols, 102);
    struct cat_column *col = cat_table_column_get(t, "f57", 3);
    assert_non_null(col);
    assert_int_equal(col->kind, CAT_COL_FIELD);
    assert_int_equal(col->type, LP_FLOAT);
    assert_int_equal(col->id, 59);
    assert_int_equal(cat_table_column_get(t, "host", 4)->kind, CAT_COL_TAG);
    assert_null(cat_table_column_get(t, "nope", 4));
    catalog_unlock(c);
    /* a new database under the dropped name gets a new id */
    catalog_wrlock(c);
    struct cat_db *again;
    assert_int_equal(catalog_db_create(c, "gone", 4, 0, &again), 0);
    assert_true(again->id > db->id);
    catalog_unlock(c);
    catalog_close(c);
}

/* File windows: part_len round-trips; a file entry without it (a catalog
 * written before windows had lengths) is one hour long. */
static void test_catalog_file_windows(void **state)
{
    (void)state;
    const int64_t hour = 3600LL * 1000000000LL, day = 24 * hour;
    char err[256], path[128];
    struct catalog *c;
    assert_int_equal(catalog_open(dir, &c, err, sizeof(err)), 0);
    catalog_wrlock(c);
    struct cat_db *db;
    struct cat_table *t;
    assert_int_equal(catalog_db_create(c, "d", 1, 0, &db), 0);
    assert_int_equal(catalog_table_create(c, db, "m", 1, &t), 0);
    struct cat_file f[2] = {
        {.path = "a.parquet",
         .part_start = 5 * hour,
         .min_time = 5 * hour,
         .max_time = 5 * hour,
         .rows = 1,
         .seq = 1},
        {.path = "b.parquet",
         .part_start = day,
         .part_len = day,
         .min_time = day,
         .max_time = day + 7 * hour,
         .rows = 2,
         .seq = 2},
    };
    assert_int_equal(catalog_table_files_add(c, t, f, 2), 0);
    assert_int_equal(t->files[0].part_len, hour); /* 0 when registering: one hour */
    catalog_unlock(c);
    catalog_close(c);

    /* strip every "part_len" of an hour: the older catalog format */
    snprintf(path, sizeof(path), "%s/catalog.json", dir);
    char *text;
    size_t len;
    assert_int_equal(sl_file_read_all(path, 1 << 20, &text, &len), 0);
    const char *pat = "\"part_len\":3600000000000,";
    for (char *p; (p = strstr(text, pat));)
        memmove(p, p + strlen(pat), strlen(p + strlen(pat)) + 1);
    assert_null(strstr(text, "\"part_len\":3600000000000"));
    assert_non_null(strstr(text, "\"part_len\":86400000000000"));
    assert_int_equal(sl_file_write_atomic(path, text, strlen(text), 0644), 0);
    sl_free(text);

    assert_int_equal(catalog_open(dir, &c, err, sizeof(err)), 0);
    catalog_rdlock(c);
    t = cat_db_table_get(catalog_db_get(c, "d", 1), "m", 1);
    assert_non_null(t);
    assert_int_equal(t->nfiles, 2);
    assert_int_equal(t->files[0].part_start, 5 * hour);
    assert_int_equal(t->files[0].part_len, hour);
    assert_int_equal(t->files[1].part_start, day);
    assert_int_equal(t->files[1].part_len, day);
    assert_int_equal(t->files[1].max_time, day + 7 * hour);
    catalog_unlock(c);
    catalog_close(c);
}

static void test_catalog_corrupt(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof(path), "%s/catalog.json", dir);
    const char *bad[] = {"{", "[]", "{\"format\":\"x\"}",
                         "{\"format\":\"sluice-catalog\",\"databases\":[{\"name\":1}]}",
                         "{\"format\":\"sluice-catalog\",\"databases\":[{\"name\":\"d\",\"tables\":"
                         "[{\"name\":\"t\",\"columns\":[{\"name\":\"f\",\"kind\":\"field\","
                         "\"type\":\"weird\"}]}]}]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(sl_file_write_atomic(path, bad[i], strlen(bad[i]), 0644), 0);
        struct catalog *c = NULL;
        err[0] = 0;
        assert_int_equal(catalog_open(dir, &c, err, sizeof(err)), SL_ECORRUPT);
        assert_true(strlen(err) > 0);
    }
    unlink(path);
}

static void test_tokens(void **state)
{
    (void)state;
    char err[256], id[33], id2[33];
    struct token_store *ts;
    assert_int_equal(token_store_open(dir, &ts, err, sizeof(err)), 0);
    char *admin, *scoped;
    assert_int_equal(token_create(ts, "_admin", 1, NULL, 0, 0, NULL, &admin, id), 0);
    assert_int_equal(strncmp(admin, "apiv3_", 6), 0);
    struct token_perm p = {.db = "sensors", .actions = TOKEN_WRITE};
    assert_int_equal(token_create(ts, "w", 0, &p, 1, 0, NULL, &scoped, id2), 0);
    char *dup;
    assert_int_equal(token_create(ts, "w", 0, &p, 1, 0, NULL, &dup, id2), SL_EEXIST);
    token_store_close(ts);

    /* the secret is not stored, only its hash; the file is private */
    char path[128], *text;
    size_t len;
    snprintf(path, sizeof(path), "%s/tokens.json", dir);
    assert_int_equal(sl_file_read_all(path, 1 << 20, &text, &len), 0);
    assert_null(strstr(text, admin + 6));
    sl_free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(token_store_open(dir, &ts, err, sizeof(err)), 0);
    struct token_grant g;
    assert_int_equal(token_authenticate(ts, admin, strlen(admin), &g), 0);
    assert_true(g.admin);
    assert_int_equal(token_authenticate(ts, scoped, strlen(scoped), &g), 0);
    assert_false(g.admin);
    assert_true(token_allows(ts, &g, "sensors", 7, TOKEN_WRITE));
    assert_false(token_allows(ts, &g, "sensors", 7, TOKEN_READ));
    assert_false(token_allows(ts, &g, "other", 5, TOKEN_WRITE));
    assert_int_equal(token_authenticate(ts, "", 0, &g), SL_EPERM);
    assert_int_equal(token_authenticate(ts, "   ", 3, &g), SL_EPERM);
    assert_int_equal(token_authenticate(ts, admin, strlen(admin) - 1, &g), SL_EPERM);
    assert_int_equal(token_delete(ts, "w"), 0);
    assert_int_equal(token_authenticate(ts, scoped, strlen(scoped), &g), SL_EPERM);
    assert_int_equal(token_delete(ts, "w"), SL_ENOENT);
    char *fresh;
    assert_int_equal(token_regenerate(ts, "_admin", &fresh, id), 0);
    assert_int_equal(token_authenticate(ts, admin, strlen(admin), &g), SL_EPERM);
    assert_int_equal(token_authenticate(ts, fresh, strlen(fresh), &g), 0);
    sl_free(fresh);
    sl_free(admin);
    sl_free(scoped);
    token_store_close(ts);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_catalog_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_catalog_file_windows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
