// Starting and stopping the satchel binary for the Node end-to-end tests.
// The binary is $SATCHEL_BIN, or ../../bin/satchel relative to this file.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SATCHEL_BIN = process.env.SATCHEL_BIN
  ? path.resolve(process.env.SATCHEL_BIN)
  : path.resolve(here, '../../bin/satchel');


/** A port that was free a moment ago (the kernel picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts satchel and waits until GET /readyz answers 200 and the bootstrap
 * keys are on disk. Returns { base, keys, child, dataDir, logs() }.
 */
export async function startSatchel() {
  assert.ok(existsSync(SATCHEL_BIN),
    `satchel binary not found at ${SATCHEL_BIN}: run "go build -o bin/satchel ." in the module root or set SATCHEL_BIN`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'satchel-node-e2e-'));
  let lastErr;
  // A free port can be taken by someone else between probing and binding:
  // try a few times before giving up.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const output = [];
    const child = spawn(SATCHEL_BIN, [], {
      env: {
        ...process.env,
        SATCHEL_DATA_DIR: dataDir,
        SATCHEL_ADDR: `127.0.0.1:${port}`,
        SATCHEL_PUBLIC_URL: base,
        SATCHEL_LOG_LEVEL: process.env.SATCHEL_LOG_LEVEL || 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk) => {
      output.push(chunk.toString());
      if (output.length > 500) output.splice(0, output.length - 500);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited = null;
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    child.on('error', (err) => { exited = { err }; });

    const deadline = Date.now() + 20_000;
    let ready = false;
    while (Date.now() < deadline && !exited) {
      try {
        const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) { ready = true; break; }
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    const srv = { base, child, dataDir, logs: () => output.join('') };
    if (ready) {
      srv.keys = JSON.parse(await readFile(path.join(dataDir, 'bootstrap-keys.json'), 'utf8'));
      return srv;
    }
    lastErr = new Error(`satchel not ready on ${base} (exit: ${JSON.stringify(exited)})\n${srv.logs()}`);
    await stopSatchel(srv, { removeData: false });
    if (!exited) break; // it ran but never got ready: retrying will not help
  }
  await rm(dataDir, { recursive: true, force: true });
  throw lastErr;
}

/** Stops the server (SIGTERM, then SIGKILL) and removes its data dir. */
export async function stopSatchel(srv, { removeData = true } = {}) {
  if (!srv) return;
  const { child } = srv;
  if (child.exitCode === null && child.signalCode === null) {
    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(timer);
  }
  if (removeData) await rm(srv.dataDir, { recursive: true, force: true });
}

