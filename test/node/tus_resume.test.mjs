// End-to-end test of the satchel binary with the real tus-js-client (npm).
//
// It starts `satchel` on a free port with a fresh data directory, uploads
// 20 MB with tus-js-client, aborts the upload mid-chunk, checks the offset the
// server kept, resumes with a new tus.Upload on the same upload URL and then
// verifies the stored file through GraphQL and the delivery route.
//
// Run:  cd /work/main && go build -o bin/satchel . && cd test/node && npm ci && node --test
// The binary is $SATCHEL_BIN, or ../../bin/satchel relative to this file.
// SATCHEL_E2E_LOGS=1 prints the server's output at the end.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as tus from 'tus-js-client';
import { sleep, startSatchel, stopSatchel } from './satchel.mjs';


const MiB = 1 << 20;
const SIZE = 20 * 1000 * 1000; // 20 MB, deliberately not a multiple of the chunk size
const CHUNK = 4 * MiB;
const ABORT_AFTER = 8 * MiB; // abort once more than this was sent (inside the 3rd chunk)
const CUT = MiB + 12345; // bytes of the 3rd chunk that get through before the link stalls

// ---------------------------------------------------------------------------
// A flaky link for tus-js-client

/**
 * StallingHttpStack is tus-js-client's own Node HttpStack, except that the one
 * PATCH starting at `offset` sends only the first `cut` bytes of its body and
 * then stalls (the Content-Length still announces the whole chunk). `stalled`
 * resolves once those bytes have been handed to the kernel, i.e. they reach the
 * server even if the connection is dropped right after.
 */
class StallingHttpStack {
  constructor({ offset, cut }) {
    this.inner = new tus.DefaultHttpStack();
    this.offset = offset;
    this.cut = cut;
    this.armed = true;
    this.stalled = new Promise((resolve) => { this.markStalled = resolve; });
  }

  createRequest(method, url) {
    const req = this.inner.createRequest(method, url);
    const stack = this;
    return {
      getMethod: () => req.getMethod(),
      getURL: () => req.getURL(),
      setHeader: (k, v) => req.setHeader(k, v),
      getHeader: (k) => req.getHeader(k),
      setProgressHandler: (h) => req.setProgressHandler(h),
      abort: () => req.abort(),
      getUnderlyingObject: () => req.getUnderlyingObject(),
      send(body = null) {
        if (!stack.armed || method !== 'PATCH' || Number(req.getHeader('Upload-Offset')) !== stack.offset || !body?.length) {
          return req.send(body);
        }
        stack.armed = false;
        const cut = body.subarray(0, stack.cut);
        let pos = 0;
        let stalling = false;
        const stream = new Readable({
          highWaterMark: 64 * 1024,
          read() {
            if (pos < cut.length) {
              const piece = cut.subarray(pos, pos + 64 * 1024);
              pos += piece.length;
              this.push(piece);
              return;
            }
            // Everything was consumed; never end the body: the link is dead.
            if (!stalling) {
              stalling = true;
              waitFlushed(req).then(stack.markStalled);
            }
          },
        });
        stream.size = body.length; // Content-Length of the whole chunk
        return req.send(stream);
      },
    };
  }

  getName() { return 'StallingHttpStack'; }
}

/** Resolves once the request's buffered body bytes have all gone to the socket's kernel buffer. */
async function waitFlushed(req) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const cr = req.getUnderlyingObject();
    if (cr?.socket && !cr.socket.connecting && cr.writableLength === 0 && cr.socket.writableLength === 0) break;
    if (cr?.destroyed || Date.now() > deadline) break; // the assertions on the offset will tell
    await sleep(5);
  }
  await sleep(100); // let the server read them (not needed for correctness: close() sends them before FIN)
}

// ---------------------------------------------------------------------------
// Helpers

const sha256hex = (buf) => createHash('sha256').update(buf).digest('hex');

/** Runs a tus.Upload to completion; resolves with the upload, rejects with onError's error. */
function runUpload(upload) {
  return new Promise((resolve, reject) => {
    const { onSuccess, onError } = upload.options;
    upload.options.onSuccess = (...args) => { onSuccess?.(...args); resolve(upload); };
    upload.options.onError = (err) => { onError?.(err); reject(err); };
    upload.start();
  });
}

/** HEAD on a tus upload URL; retries briefly while the upload is locked (423). */
async function tusHead(url, key) {
  for (let i = 0; ; i++) {
    const res = await fetch(url, {
      method: 'HEAD',
      headers: { 'Tus-Resumable': '1.0.0', Authorization: `Bearer ${key}` },
    });
    if (res.status !== 423 || i >= 50) return res;
    await sleep(100);
  }
}

async function graphql(base, key, query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { assert.fail(`GraphQL answered ${res.status} with non-JSON: ${text}`); }
  return { status: res.status, body };
}

// ---------------------------------------------------------------------------
// Tests

describe('satchel tus endpoint with tus-js-client 4.x', () => {
  let srv;

  before(async () => {
    srv = await startSatchel();
  }, { timeout: 30_000 });

  after(async () => {
    // SATCHEL_E2E_LOGS=1 prints what the server logged (SATCHEL_LOG_LEVEL, default warn).
    if (srv && process.env.SATCHEL_E2E_LOGS) process.stderr.write(`--- satchel output ---\n${srv.logs()}\n`);
    await stopSatchel(srv);
  });

  test('interrupted upload resumes from the server offset and stores identical bytes', { timeout: 120_000 }, async (t) => {
    const data = randomBytes(SIZE);
    const wantSha = sha256hex(data);
    const endpoint = `${srv.base}/uploads/`;
    const headers = { Authorization: `Bearer ${srv.keys.publicKey}` };
    const metadata = { filename: 'resume.bin', filetype: 'application/octet-stream', tags: '["node-e2e"]' };

    // --- 1. start, and abort from onProgress once > 8 MiB was sent, i.e. inside
    // the 3rd PATCH. On loopback a 4 MiB chunk is handed to the kernel in one
    // go, so to interrupt it in its middle the 3rd PATCH goes over a "link"
    // that stalls after CUT bytes of its body (like a mobile connection going
    // dead); the abort happens once those bytes have left the process.
    const link = new StallingHttpStack({ offset: 2 * CHUNK, cut: CUT });
    let uploadUrl = null;
    let abortedAt = -1;
    let firstRunError = null;
    let firstRunSucceeded = false;
    const aborted = new Promise((resolve) => {
      const upload = new tus.Upload(data, {
        endpoint,
        headers,
        metadata,
        chunkSize: CHUNK,
        retryDelays: [],
        httpStack: link,
        onUploadUrlAvailable: () => { uploadUrl = upload.url; },
        onProgress: (sent) => {
          if (abortedAt >= 0 || sent <= ABORT_AFTER) return;
          abortedAt = sent;
          link.stalled.then(() => upload.abort()).then(resolve, resolve);
        },
        onSuccess: () => { firstRunSucceeded = true; resolve(); },
        onError: (err) => { firstRunError = err; resolve(); },
      });
      upload.start();
    });
    await aborted;
    assert.equal(firstRunError, null, `first run failed before the abort: ${firstRunError}`);
    assert.equal(firstRunSucceeded, false, 'the upload finished before it could be aborted');
    assert.ok(abortedAt > ABORT_AFTER && abortedAt < SIZE, `aborted at ${abortedAt}`);
    assert.ok(uploadUrl, 'tus-js-client never got an upload URL');
    assert.ok(uploadUrl.startsWith(endpoint), `upload URL ${uploadUrl} is not under ${endpoint}`);
    const id = new URL(uploadUrl).pathname.split('/').filter(Boolean).pop();
    assert.match(id, /^[A-Za-z0-9_-]{16,}$/, `file ID from URL ${uploadUrl}`);

    // --- 2. the server kept a partial upload
    const head = await tusHead(uploadUrl, srv.keys.publicKey);
    assert.equal(head.status, 200, `HEAD ${uploadUrl}: ${head.status}`);
    assert.equal(head.headers.get('tus-resumable'), '1.0.0');
    assert.equal(head.headers.get('upload-length'), String(SIZE));
    const serverOffset = Number.parseInt(head.headers.get('upload-offset'), 10);
    assert.ok(Number.isInteger(serverOffset), `Upload-Offset: ${head.headers.get('upload-offset')}`);
    assert.ok(serverOffset > 0 && serverOffset < SIZE,
      `server offset ${serverOffset} must be strictly inside (0, ${SIZE})`);
    // Two chunks were acknowledged before the abort, and CUT bytes of the third
    // one reached the server before the connection was dropped: tus servers
    // keep the bytes of an interrupted PATCH.
    assert.equal(serverOffset, 2 * CHUNK + CUT,
      `server offset ${serverOffset}, want the 2 acknowledged chunks + the ${CUT} bytes sent before the cut`);
    t.diagnostic(`abort requested at ${abortedAt} bytes sent; server kept offset ${serverOffset}`);

    // An unfinished upload is not a File yet.
    {
      const { status, body } = await graphql(srv.base, srv.keys.secretKey,
        'query($id: ID!){ file(id:$id){ id } }', { id });
      assert.equal(status, 200);
      assert.equal(body.data?.file ?? null, null, `unfinished upload visible as File: ${JSON.stringify(body)}`);
    }

    // --- 3. resume with a NEW tus.Upload on the same URL
    const progress = [];
    const patchOffsets = [];
    let resumeHeadOffset = null;
    let creations = 0;
    const resumed = new tus.Upload(data, {
      uploadUrl,
      headers,
      metadata,
      chunkSize: CHUNK,
      retryDelays: [0, 200, 1000],
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH') patchOffsets.push(Number(req.getHeader('Upload-Offset')));
        if (req.getMethod() === 'POST') creations++;
      },
      onAfterResponse: (req, res) => {
        if (req.getMethod() === 'HEAD' && resumeHeadOffset === null) {
          resumeHeadOffset = Number(res.getHeader('Upload-Offset'));
        }
      },
      onProgress: (sent, total) => { progress.push([sent, total]); },
    });
    await runUpload(resumed);

    assert.equal(creations, 0, 'the resumed upload created a new upload instead of resuming');
    assert.equal(resumed.url, uploadUrl);
    assert.equal(resumeHeadOffset, serverOffset, 'the resumed upload saw a different offset than our HEAD');
    assert.ok(patchOffsets.length > 0, 'no PATCH was sent on resume');
    assert.equal(patchOffsets[0], serverOffset, `first PATCH offset ${patchOffsets[0]} != server offset ${serverOffset}`);
    assert.ok(progress.length > 0, 'no progress events on resume');
    assert.ok(progress[0][0] >= serverOffset,
      `resumed upload started from ${progress[0][0]}, not from the server offset ${serverOffset}`);
    assert.deepEqual(progress.at(-1), [SIZE, SIZE]);
    // The resumed run sends only what was missing (chunked from the server offset).
    const expectedPatches = Math.ceil((SIZE - serverOffset) / CHUNK);
    assert.equal(patchOffsets.length, expectedPatches, `PATCH offsets: ${patchOffsets}`);
    for (let i = 0; i < patchOffsets.length; i++) {
      assert.equal(patchOffsets[i], serverOffset + i * CHUNK);
    }

    const done = await tusHead(uploadUrl, srv.keys.publicKey);
    assert.equal(done.headers.get('upload-offset'), String(SIZE));

    // --- 4. GraphQL: the File exists with the right checksum
    const { status, body } = await graphql(srv.base, srv.keys.secretKey,
      'query($id: ID!){ file(id:$id){ id name size sha256 mime tags { name } } }', { id });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.deepEqual(body.data.file, {
      id,
      name: 'resume.bin',
      size: SIZE,
      sha256: wantSha,
      mime: 'application/octet-stream',
      tags: [{ name: 'node-e2e' }],
    });

    // --- 5. delivery: full body and a Range
    const full = await fetch(`${srv.base}/files/${id}`);
    assert.equal(full.status, 200);
    const got = Buffer.from(await full.arrayBuffer());
    assert.equal(got.length, SIZE);
    assert.equal(sha256hex(got), wantSha);
    assert.ok(got.equals(data), 'downloaded bytes differ from the uploaded ones');

    // A range that straddles the point where the upload was interrupted.
    const from = serverOffset - 1000;
    const to = serverOffset + 999;
    const part = await fetch(`${srv.base}/files/${id}`, { headers: { Range: `bytes=${from}-${to}` } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes ${from}-${to}/${SIZE}`);
    const slice = Buffer.from(await part.arrayBuffer());
    assert.equal(slice.length, 2000);
    assert.ok(slice.equals(data.subarray(from, to + 1)), 'range body differs from the uploaded slice');
  });

  test('tus creation without Authorization is refused with 401 UNAUTHENTICATED', { timeout: 30_000 }, async () => {
    const data = randomBytes(1024);
    const err = await runUpload(new tus.Upload(data, {
      endpoint: `${srv.base}/uploads/`,
      metadata: { filename: 'anon.bin', filetype: 'application/octet-stream' },
      retryDelays: [],
    })).then(
      () => assert.fail('an upload without Authorization succeeded'),
      (e) => e,
    );
    assert.ok(err instanceof tus.DetailedError, `unexpected error: ${err}`);
    const res = err.originalResponse;
    assert.ok(res, `no response on the error: ${err}`);
    assert.equal(err.originalRequest.getMethod(), 'POST');
    assert.equal(res.getStatus(), 401);
    assert.match(res.getHeader('Content-Type') ?? '', /^application\/json\b/);
    const body = JSON.parse(res.getBody());
    assert.equal(body.error?.code, 'UNAUTHENTICATED', res.getBody());
    assert.equal(typeof body.error.message, 'string');
    assert.ok(body.error.message.trim().length > 0, 'empty error message');
  });
});
