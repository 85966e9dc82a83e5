/*
 * test_api_backup.c — the helpers of the backup API that guard the file
 * system: relative-path validation (what a snapshot download or a restore
 * may touch), SHA-256 of files, and the data directory lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "support/fixture.h"

static void test_path_ok(void **state)
{
    (void)state;
    assert_true(api_backup_path_ok("catalog.json"));
    assert_true(api_backup_path_ok("dbs/a/cpu/2024-01-01/00-00-000001.parquet"));
    assert_true(api_backup_path_ok("dbs/%2E%2E/x..y/.hidden"));
    assert_false(api_backup_path_ok(NULL));
    assert_false(api_backup_path_ok(""));
    assert_false(api_backup_path_ok("/etc/passwd"));
    assert_false(api_backup_path_ok(".."));
    assert_false(api_backup_path_ok("../x"));
    assert_false(api_backup_path_ok("dbs/../../x"));
    assert_false(api_backup_path_ok("dbs/./x"));
    assert_false(api_backup_path_ok("dbs//x"));
    assert_false(api_backup_path_ok("dbs/x/"));
    assert_false(api_backup_path_ok("dbs\\..\\x"));
    assert_false(api_backup_path_ok("dbs/a\nb"));
}

static void test_sha256_file(void **state)
{
    (void)state;
    const char *dir = fx_tmpdir("sl-ut-backup");
    char path[128], hex[65];
    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/f", dir);
    assert_int_equal(sl_file_write_atomic(path, "abc", 3, 0600), 0);
    uint64_t size = 0;
    assert_int_equal(api_sha256_file(path, hex, &size), 0);
    assert_int_equal(size, 3);
    /* FIPS 180-2 test vector */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(sl_file_write_atomic(path, "", 0, 0600), 0);
    assert_int_equal(api_sha256_file(path, hex, &size), 0);
    assert_int_equal(size, 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    snprintf(path, sizeof(path), "%s/missing", dir);
    assert_int_equal(api_sha256_file(path, hex, &size), SL_ENOENT);
    sl_remove_tree(dir);
}

static void test_data_dir_lock(void **state)
{
    (void)state;
    const char *dir = fx_tmpdir("sl-ut-lock");
    assert_non_null(dir);
    int fd1 = -1, fd2 = -1;
    assert_int_equal(api_data_dir_lock(dir, &fd1), 0);
    assert_true(fd1 >= 0);
    /* flock locks belong to the open file description: a second open conflicts */
    assert_int_equal(api_data_dir_lock(dir, &fd2), SL_EBUSY);
    assert_int_equal(fd2, -1);
    close(fd1);
    assert_int_equal(api_data_dir_lock(dir, &fd2), 0);
    close(fd2);
    assert_int_equal(api_data_dir_lock("/nonexistent/sl-ut-dir", &fd2), SL_ENOENT);
    sl_remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_ok),
        cmocka_unit_test(test_sha256_file),
        cmocka_unit_test(test_data_dir_lock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
