// Starting and stopping the satchel binary for the Node end-to-end tests.
// The binary is $SATCHEL_BIN, or ../../bin/satchel relative to this file.
// With SATCHEL_TEST_STORE=s3 each server keeps its bytes in a bucket of its
// own on a real S3 server, created for it and removed with it: the S3
// server SATCHEL_TEST_S3 names (an endpoint URL, with the standard AWS_*
// credentials and AWS_REGION in the environment), else versitygw
// ($SATCHEL_VERSITYGW, or ../../tools/bin/versitygw, installed by
// scripts/versitygw.sh), started once per test process on 127.0.0.1 with a
// temporary folder and random keys. As in Go's internal/s3test.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3 } from './s3.mjs';

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

/** The store the servers use: 'file' (the default) or 's3'. */
export const STORE = process.env.SATCHEL_TEST_STORE || 'file';

let s3 = null; // { endpoint, env, client } once known

/**
 * The S3 server of this process: SATCHEL_TEST_S3's, or versitygw, started
 * on first use. Every server gets a bucket on it.
 */
async function s3Server() {
  if (s3) return s3;
  if (process.env.SATCHEL_TEST_S3) {
    const env = {
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
      AWS_REGION: process.env.AWS_REGION || 'us-east-1',
    };
    assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY,
      'SATCHEL_TEST_S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    s3 = { endpoint: process.env.SATCHEL_TEST_S3, env };
  } else {
    s3 = await startVersitygw();
  }
  s3.client = new S3(s3.endpoint, {
    accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN, region: s3.env.AWS_REGION,
  });
  return s3;
}

/** Starts versitygw for this process, killed (and its folder removed) when it exits. */
async function startVersitygw() {
  const bin = process.env.SATCHEL_VERSITYGW || path.resolve(here, '../../tools/bin/versitygw');
  assert.ok(existsSync(bin), `versitygw not found at ${bin}: run scripts/versitygw.sh`);
  const root = await mkdtemp(path.join(os.tmpdir(), 'satchel-node-s3-'));
  const port = await freePort();
  const env = {
    AWS_ACCESS_KEY_ID: 'satchel' + randomBytes(8).toString('hex'),
    AWS_SECRET_ACCESS_KEY: randomBytes(20).toString('hex'),
    AWS_REGION: 'us-east-1',
  };
  const child = spawn(bin, ['--port', `127.0.0.1:${port}`, '--access', env.AWS_ACCESS_KEY_ID,
    '--secret', env.AWS_SECRET_ACCESS_KEY, '--region', env.AWS_REGION, 'posix', root],
  { stdio: 'ignore' });
  // Killed when this process exits, which it must not keep from exiting.
  child.unref();
  process.on('exit', () => {
    child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const up = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (up) break;
    assert.ok(Date.now() < deadline, 'versitygw did not listen');
    await sleep(50);
  }
  return { endpoint: `http://127.0.0.1:${port}`, env };
}

/**
 * Where a server's bytes go, as STORE says: { env } to start it with, and
 * { bucket } on S3, a fresh one.
 */
async function newStore() {
  if (STORE === 'file') return { env: {} };
  assert.equal(STORE, 's3', `SATCHEL_TEST_STORE=${STORE}: want file or s3`);
  const srv = await s3Server();
  const bucket = 'satchel-node-' + randomBytes(6).toString('hex');
  await srv.client.createBucket(bucket);
  const q = new URLSearchParams({ endpoint: srv.endpoint, region: srv.env.AWS_REGION });
  return { bucket, env: { ...srv.env, SATCHEL_STORAGE: `s3://${bucket}?${q}` } };
}

/** Removes what newStore made. */
async function removeStore(store) {
  if (store?.bucket) await s3.client.removeBucket(store.bucket);
}

/**
 * Starts satchel and waits until GET /readyz answers 200 and the bootstrap
 * keys are on disk. Returns { base, keys, child, dataDir, store, logs() }.
 */
export async function startSatchel() {
  assert.ok(existsSync(SATCHEL_BIN),
    `satchel binary not found at ${SATCHEL_BIN}: run "go build -o bin/satchel ." in the module root or set SATCHEL_BIN`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'satchel-node-e2e-'));
  const store = await newStore();
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
        ...store.env,
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
    const srv = { base, child, dataDir, store, logs: () => output.join('') };
    if (ready) {
      srv.keys = JSON.parse(await readFile(path.join(dataDir, 'bootstrap-keys.json'), 'utf8'));
      return srv;
    }
    lastErr = new Error(`satchel not ready on ${base} (exit: ${JSON.stringify(exited)})\n${srv.logs()}`);
    await stopSatchel(srv, { removeData: false });
    if (!exited) break; // it ran but never got ready: retrying will not help
  }
  await rm(dataDir, { recursive: true, force: true });
  await removeStore(store);
  throw lastErr;
}

/** Stops the server (SIGTERM, then SIGKILL) and removes its data dir and bucket. */
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
  if (removeData) {
    await rm(srv.dataDir, { recursive: true, force: true });
    await removeStore(srv.store);
  }
}

