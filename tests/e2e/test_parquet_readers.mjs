// test_parquet_readers.mjs — independent readers open sluice's Parquet files.
//
// `sluice parquet-gen` writes a deterministic sample (every column type,
// NULLs, empty / long / non-ASCII strings, extreme integers, 4 row groups of
// several pages) with each codec. DuckDB (@duckdb/node-api) and hyparquet read
// the files; this test recomputes the expected rows from the formulas in
// src/cli/parquet_cmd.c (gen_row) and asserts exact values and types, plus
// the row-group statistics DuckDB sees and a statistics-driven filter, and
// the page index (OffsetIndex / ColumnIndex) as hyparquet decodes it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects, parquetMetadata, readColumnIndex, readOffsetIndex } from 'hyparquet';
import { asyncBufferFromFile } from 'hyparquet/src/node.js';

const bin = process.env.SLUICE_BIN;
if (!bin || !existsSync(bin)) {
  console.log('SKIP: SLUICE_BIN not set or missing');
  process.exit(77);
}

const N = 1000;
const RG = 300;
const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
const U64_MAX = 18446744073709551615n;
const REGIONS = ['us-east', 'eu-west', 'ap-south'];

function expectedRow(i) {
  const b = BigInt(i);
  let msg;
  if (i % 4 === 2) msg = null;
  else if (i % 4 === 0) msg = '';
  else if (i % 50 === 1) msg = 'x'.repeat(3000) + String(i);
  else msg = `msg ${i} ünïcødé ✓`;
  return {
    time: 1700000000000000000n + b * 1000000007n,
    host: `host-${i % 10}`,
    region: i % 9 === 8 ? null : REGIONS[i % 3],
    usage: i % 11 === 5 ? null : i === 7 ? 1.5e300 : i * 0.25 - 100.5,
    count: i % 7 === 3 ? null : i === 1 ? I64_MAX : i === 2 ? I64_MIN : BigInt((i * 37) % 201) - 100n,
    bytes: i % 5 === 1 ? null : i === 4 ? U64_MAX : b * b * 1000003n,
    up: i % 13 === 0 ? null : i % 3 === 0,
    msg,
  };
}
const expected = Array.from({ length: N }, (_, i) => expectedRow(i));
const COLS = ['time', 'host', 'region', 'usage', 'count', 'bytes', 'up', 'msg'];

function compareRows(label, got) {
  assert.equal(got.length, N, `${label}: row count`);
  for (let i = 0; i < N; i++) {
    for (const c of COLS) {
      let g = got[i][c];
      const e = expected[i][c];
      if (typeof e === 'bigint' && typeof g === 'number') g = BigInt(g);
      if (g !== e) {
        assert.fail(`${label}: row ${i} column ${c}: got ${String(g).slice(0, 60)} (${typeof g}), ` +
          `want ${String(e).slice(0, 60)} (${typeof e})`);
      }
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-pq-'));
const files = {};
for (const codec of ['zstd', 'snappy', 'none']) {
  files[codec] = join(dir, `sample-${codec}.parquet`);
  execFileSync(bin, ['parquet-gen', '--codec', codec, files[codec]], { stdio: 'inherit' });
}
files.utc = join(dir, 'sample-utc.parquet');
execFileSync(bin, ['parquet-gen', '--utc', files.utc], { stdio: 'inherit' });

const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjects();

try {
  // ---- DuckDB ----
  for (const codec of ['zstd', 'snappy', 'none']) {
    const f = files[codec];
    const types = Object.fromEntries((await rows(`DESCRIBE SELECT * FROM read_parquet('${f}')`))
      .map((r) => [r.column_name, r.column_type]));
    assert.deepEqual(types, {
      time: 'TIMESTAMP_NS', host: 'VARCHAR', region: 'VARCHAR', usage: 'DOUBLE',
      count: 'BIGINT', bytes: 'UBIGINT', up: 'BOOLEAN', msg: 'VARCHAR',
    }, `duckdb types (${codec})`);
    const got = await rows(`SELECT epoch_ns(time) AS time, host, region, usage, count, bytes, up, msg
                            FROM read_parquet('${f}') ORDER BY time`);
    compareRows(`duckdb ${codec}`, got);

    // Row groups, codec and statistics as DuckDB reads them from the footer.
    const meta = await rows(`SELECT row_group_id, row_group_num_rows, path_in_schema, compression,
                               stats_null_count, stats_min_value, stats_max_value, encodings
                             FROM parquet_metadata('${f}')`);
    const groups = new Set(meta.map((m) => Number(m.row_group_id)));
    assert.equal(groups.size, Math.ceil(N / RG), `duckdb sees ${Math.ceil(N / RG)} row groups`);
    const codecName = { zstd: 'ZSTD', snappy: 'SNAPPY', none: 'UNCOMPRESSED' }[codec];
    for (const m of meta) {
      assert.equal(m.compression, codecName);
      const g = Number(m.row_group_id);
      const slice = expected.slice(g * RG, Math.min(N, (g + 1) * RG));
      const vals = slice.map((r) => r[m.path_in_schema]);
      const nulls = vals.filter((v) => v === null).length;
      assert.equal(Number(m.stats_null_count), nulls, `null_count rg ${g} ${m.path_in_schema}`);
      if (['count', 'bytes'].includes(m.path_in_schema)) {
        const nn = vals.filter((v) => v !== null);
        const min = nn.reduce((a, b) => (b < a ? b : a));
        const max = nn.reduce((a, b) => (b > a ? b : a));
        assert.equal(m.stats_min_value, String(min), `min rg ${g} ${m.path_in_schema}`);
        assert.equal(m.stats_max_value, String(max), `max rg ${g} ${m.path_in_schema}`);
      }
      if (m.path_in_schema === 'host') {
        assert.equal(m.stats_min_value, 'host-0');
        assert.equal(m.stats_max_value, 'host-9');
        assert.match(m.encodings, /RLE_DICTIONARY/);
      }
      if (m.path_in_schema === 'time') assert.match(m.encodings, /DELTA_BINARY_PACKED/);
      if (m.path_in_schema === 'usage') assert.match(m.encodings, /BYTE_STREAM_SPLIT/);
    }
    // Filters that DuckDB may answer with the statistics must still be right.
    const [c1] = await rows(`SELECT count(*) AS n FROM read_parquet('${f}') WHERE count = ${I64_MAX}`);
    assert.equal(c1.n, 1n);
    const [c2] = await rows(`SELECT count(*) AS n FROM read_parquet('${f}') WHERE bytes = ${U64_MAX}`);
    assert.equal(c2.n, 1n);
    const [c3] = await rows(`SELECT count(*) AS n FROM read_parquet('${f}') WHERE region IS NULL`);
    assert.equal(c3.n, BigInt(expected.filter((r) => r.region === null).length));
    const kv = await rows(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${f}')`);
    const kvm = Object.fromEntries(kv.map((r) => [r.k, r.v]));
    assert.equal(kvm['sluice.tags'], '["host","region"]');
    assert.equal(kvm['sluice.sort_key'], 'host,region,time');
    console.log(`ok duckdb ${codec}`);
  }
  // isAdjustedToUTC=true: DuckDB maps it to TIMESTAMP WITH TIME ZONE (microseconds).
  const [u] = await rows(`SELECT typeof(time) AS t FROM read_parquet('${files.utc}') LIMIT 1`);
  assert.equal(u.t, 'TIMESTAMP WITH TIME ZONE');
  console.log('ok duckdb utc flag');

  // ---- hyparquet ----
  const zstdDecompress = (input, outputLength) => {
    const out = execFileSync('zstd', ['-d', '-c', '-q'], { input: Buffer.from(input) });
    assert.equal(out.length, outputLength);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  };
  let haveZstd = true;
  try { execFileSync('zstd', ['--version']); } catch { haveZstd = false; }
  for (const codec of ['snappy', 'none', ...(haveZstd ? ['zstd'] : [])]) {
    const file = await asyncBufferFromFile(files[codec]);
    const md = parquetMetadata(file instanceof ArrayBuffer ? file : await file.slice(0));
    assert.equal(md.row_groups.length, Math.ceil(N / RG));
    const got = await parquetReadObjects({
      file,
      compressors: { ZSTD: zstdDecompress },
      parsers: { timestampFromNanoseconds: (v) => v },
    });
    compareRows(`hyparquet ${codec}`, got);
    console.log(`ok hyparquet ${codec}`);
  }

  // ---- page index (OffsetIndex + ColumnIndex), as hyparquet decodes it ----
  // parquet-gen writes 128-row pages: every chunk lists its data pages, and
  // the ColumnIndex min/max/null counts match the rows of each page.
  {
    const buf = await (await asyncBufferFromFile(files.none)).slice(0);
    const md = parquetMetadata(buf);
    const PAGE = 128;
    for (let g = 0; g < md.row_groups.length; g++) {
      const rgRows = Number(md.row_groups[g].num_rows);
      for (const [c, col] of md.row_groups[g].columns.entries()) {
        const name = col.meta_data.path_in_schema[0];
        assert.ok(col.offset_index_length > 0, `offset index rg ${g} ${name}`);
        const oi = readOffsetIndex({ view: new DataView(buf, Number(col.offset_index_offset),
          col.offset_index_length), offset: 0 });
        const locs = oi.page_locations;
        assert.equal(locs.length, Math.ceil(rgRows / PAGE), `pages rg ${g} ${name}`);
        locs.forEach((l, i) => assert.equal(Number(l.first_row_index), i * PAGE));
        assert.equal(Number(locs[0].offset), Number(col.meta_data.data_page_offset));
        for (let i = 1; i < locs.length; i++)
          assert.equal(Number(locs[i].offset), Number(locs[i - 1].offset) + locs[i - 1].compressed_page_size);
        if (name !== 'count') continue;
        assert.ok(col.column_index_length > 0, `column index rg ${g}`);
        const ci = readColumnIndex({ view: new DataView(buf, Number(col.column_index_offset),
          col.column_index_length), offset: 0 }, md.schema[c + 1]);
        for (let i = 0; i < locs.length; i++) {
          const lo = g * RG + i * PAGE, hi = Math.min(g * RG + rgRows, lo + PAGE);
          const vals = expected.slice(lo, hi).map((r) => r.count);
          const nn = vals.filter((v) => v !== null);
          assert.equal(Number(ci.null_counts[i]), vals.length - nn.length, `null count page ${i}`);
          assert.equal(ci.null_pages[i], nn.length === 0);
          if (!nn.length) continue;
          assert.equal(BigInt(ci.min_values[i]), nn.reduce((a, b) => (b < a ? b : a)), `min page ${i}`);
          assert.equal(BigInt(ci.max_values[i]), nn.reduce((a, b) => (b > a ? b : a)), `max page ${i}`);
        }
      }
    }
    console.log('ok page index (hyparquet)');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('PASS test_parquet_readers');
