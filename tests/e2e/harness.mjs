// harness.mjs — shared pieces of the JavaScript end-to-end tests: TAP-like
// checks with a summary and exit code, and a real `sluice serve` started on
// a free port in a temporary data directory (killed and removed at exit).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const state = { passed: 0, failed: 0, failures: [] };

export function check(cond, what, detail) {
  if (cond) {
    state.passed++;
    console.log(`ok   - ${what}`);
  } else {
    state.failed++;
    state.failures.push(what);
    console.log(`FAIL - ${what}${detail !== undefined ? `\n       ${JSON.stringify(detail)}` : ''}`);
  }
  return !!cond;
}

export const eq = (a, b, what) =>
  check(JSON.stringify(a) === JSON.stringify(b), what, { expected: b, got: a });

export function fail(what) {
  state.failed++;
  state.failures.push(what);
  console.log(`FAIL - ${what}`);
}

// Prints the summary and exits 1 when a check failed.
export function finish() {
  console.log(`${state.passed} passed, ${state.failed} failed`);
  if (state.failed) console.log(`failures:\n  ${state.failures.join('\n  ')}`);
  process.exit(state.failed ? 1 : 0);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts $SLUICE_BIN serve (extra arguments args) and waits for /health.
// Returns { url, dataDir, logPath, token } (token: the operator token).
export async function startServer(prefix, args = []) {
  const bin = process.env.SLUICE_BIN;
  if (!bin || !fs.existsSync(bin)) {
    console.log('FAIL - SLUICE_BIN is not set or missing');
    process.exit(1);
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const dataDir = path.join(base, 'data');
  const logPath = path.join(base, 'server.log');
  const logFd = fs.openSync(logPath, 'a');
  const child = spawn(bin, ['serve', '--data-dir', dataDir, '--http-bind', '127.0.0.1:0', ...args], {
    stdio: ['ignore', logFd, logFd],
  });
  process.on('exit', () => {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
    fs.rmSync(base, { recursive: true, force: true });
  });
  process.on('SIGTERM', () => process.exit(143));
  process.on('SIGINT', () => process.exit(130));
  let port;
  for (let i = 0; i < 1500 && !port; i++) {
    const m = /listening on \S+ \(port (\d+)\)/.exec(fs.readFileSync(logPath, 'utf8'));
    if (m) port = Number(m[1]);
    else await sleep(20);
    if (child.exitCode !== null) break;
  }
  if (!port) {
    console.log(`FAIL - server did not start:\n${fs.readFileSync(logPath, 'utf8')}`);
    process.exit(1);
  }
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 500; i++) {
    try { if ((await fetch(`${url}/health`)).status === 200) break; } catch { /* not yet */ }
    await sleep(20);
  }
  const tokPath = path.join(dataDir, 'operator-token');
  const token = fs.existsSync(tokPath) ? fs.readFileSync(tokPath, 'utf8').trim() : '';
  return { url, dataDir, logPath, token };
}
