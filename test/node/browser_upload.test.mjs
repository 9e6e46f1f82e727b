// End-to-end test of the two-step browser upload in real headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core; no browser is ever
// downloaded).
//
//   app page (http://127.0.0.1:<portA>)      satchel (http://127.0.0.1:<portB>)
//   ------------------------------------      ---------------------------------
//   POST /api/upload-ticket  -> app backend -> POST /graphql createUploadTicket
//                                              (secret key, server-side, no Origin)
//   tus-js-client, no key, metadata uploadId -> POST/PATCH /uploads/   (cross-origin)
//   fetch(uploadUrl, { method: 'POST' })     -> POST /files/public/{uploadId}
//
// The page makes 6 MiB of random bytes, hashes them with crypto.subtle and
// uploads them once with tus-js-client (2 MiB chunks: several PATCHes) and
// once with a one-shot POST on a second ticket. Node then checks through
// GraphQL (secret key) and GET /files/{id} that both files hold exactly those
// bytes, that reusing a spent upload ID gives a 409 UPLOAD_ID_USED JSON error
// that page code can read (CORS headers on errors too), and that the browser
// logged no CORS error, no page error and no failed request.
//
// Run:  cd /work/main && go build -o bin/satchel . && cd test/node && npm ci && node --test
// The binary is $SATCHEL_BIN, or ../../bin/satchel relative to this file; the
// browser is $CHROMIUM_PATH or /usr/bin/chromium (Debian's package chromium,
// installed by scripts/deps.sh). SATCHEL_E2E_LOGS=1 prints the server's output
// and everything the browser logged.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startSatchel, stopSatchel } from './satchel.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const MiB = 1 << 20;
const SIZE = 6 * MiB;
const CHUNK = 2 * MiB;

const sha256hex = (buf) => createHash('sha256').update(buf).digest('hex');

// ---------------------------------------------------------------------------
// The app: its page and its backend, on an origin of its own

const PAGE = `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<title>satchel browser upload</title>
<link rel="icon" href="data:,">
<script src="/tus.min.js"></script>
</head>
<body>
<p id="status">ready</p>
<script>
'use strict';

// Asks the app's own backend (same origin) for an upload ID.
async function getTicket(fileName) {
  const res = await fetch('/api/upload-ticket', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ fileName }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error('ticket: ' + res.status + ' ' + JSON.stringify(body));
  return body;
}

// size random bytes (getRandomValues fills at most 64 KiB per call).
function randomBlob(size, type) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(size, i + 65536)));
  return new Blob([bytes], { type });
}

async function sha256(blob) {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function base64(buf) {
  const bytes = new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < bytes.length; i += 32768) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 32768));
  return btoa(s);
}

// Reads a file back from satchel (cross-origin GET) and compares it with blob.
async function sameBytes(fileUrl, blob) {
  const res = await fetch(fileUrl);
  const got = new Uint8Array(await res.arrayBuffer());
  const want = new Uint8Array(await blob.arrayBuffer());
  if (res.status !== 200 || got.length !== want.length) return false;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) return false;
  return true;
}

function tusUpload(file, options) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(file, {
      ...options,
      onSuccess: () => resolve(upload),
      onError: reject,
    });
    upload.start();
  });
}

// Two-step upload with tus-js-client. Returns what the page knows.
window.uploadWithTus = async function (size, chunkSize) {
  const ticket = await getTicket(null);
  const blob = randomBlob(size, 'application/octet-stream');
  const hash = await sha256(blob);
  const methods = [];
  const progress = [];
  const upload = await tusUpload(blob, {
    endpoint: ticket.tusEndpoint,
    chunkSize,
    retryDelays: [],
    removeFingerprintOnSuccess: true,
    metadata: { uploadId: ticket.uploadId, filename: 'browser-tus.bin', filetype: blob.type },
    onBeforeRequest: (req) => { methods.push(req.getMethod()); },
    onProgress: (sent, total) => { progress.push([sent, total]); },
  });
  const fileId = new URL(upload.url).pathname.split('/').filter(Boolean).pop();
  return {
    ticket,
    fileId,
    uploadUrl: upload.url,
    sha256: hash,
    size: blob.size,
    methods,
    lastProgress: progress.at(-1),
    bytes: base64(await blob.arrayBuffer()),
    readBack: await sameBytes(new URL('/files/' + fileId, ticket.tusEndpoint).href, blob),
  };
};

// Two-step upload with one POST to the ticket's uploadUrl.
window.uploadOneShot = async function (size) {
  const ticket = await getTicket(null);
  const blob = randomBlob(size, 'application/x-browser-e2e');
  const hash = await sha256(blob);
  const res = await fetch(ticket.uploadUrl, {
    method: 'POST',
    body: blob,
    headers: { 'Content-Type': blob.type, 'X-Upload-File-Name': 'browser-oneshot.bin' },
  });
  const body = await res.json();
  return {
    ticket,
    status: res.status,
    body,
    sha256: hash,
    size: blob.size,
    bytes: base64(await blob.arrayBuffer()),
    readBack: body.fileUrl ? await sameBytes(body.fileUrl, blob) : false,
  };
};

// A one-shot POST with a spent upload ID: status, CORS-visible headers, body.
window.reuseOneShot = async function (uploadUrl) {
  const res = await fetch(uploadUrl, {
    method: 'POST',
    body: new Blob(['again'], { type: 'text/plain' }),
    headers: { 'Content-Type': 'text/plain', 'X-Upload-File-Name': 'again.txt' },
  });
  return { status: res.status, contentType: res.headers.get('Content-Type'), text: await res.text() };
};

// A tus creation with a spent upload ID: what tus-js-client reports.
window.reuseTus = async function (ticket) {
  try {
    await tusUpload(new Blob(['again'], { type: 'text/plain' }), {
      endpoint: ticket.tusEndpoint,
      retryDelays: [],
      storeFingerprintForResuming: false,
      metadata: { uploadId: ticket.uploadId, filename: 'again.txt', filetype: 'text/plain' },
    });
    return { succeeded: true };
  } catch (err) {
    const res = err.originalResponse;
    const req = err.originalRequest;
    return {
      succeeded: false,
      message: String(err && err.message),
      method: req ? req.getMethod() : null,
      status: res ? res.getStatus() : null,
      contentType: res ? res.getHeader('Content-Type') : null,
      text: res ? res.getBody() : null,
    };
  }
};

document.getElementById('status').textContent = typeof tus === 'object' && tus.isSupported ? 'loaded' : 'no tus';
</script>
</body>
</html>
`;

/** A POST without an Origin header (as a backend sends it), JSON in and out. */
function postJSON(url, headers, payload) {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(JSON.stringify(payload));
    const req = http.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': body.length, ...headers },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: POST ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function graphql(base, key, query, variables) {
  const { status, text } = await postJSON(`${base}/graphql`, { Authorization: `Bearer ${key}` }, { query, variables });
  let body;
  try { body = JSON.parse(text); } catch { assert.fail(`GraphQL answered ${status} with non-JSON: ${text}`); }
  return { status, body };
}

const TICKET_MUTATION = `mutation($input: CreateUploadTicketInput!) {
  createUploadTicket(input: $input) { uploadId expiresAt uploadUrl tusEndpoint }
}`;

/**
 * The app's server: the page, tus-js-client's browser build, and the backend
 * route that mints a ticket with the secret key (which never leaves Node).
 */
async function startApp(satchel) {
  const tusJs = await readFile(path.join(here, 'node_modules', 'tus-js-client', 'dist', 'tus.min.js'));
  const ticketCalls = [];
  const server = http.createServer(async (req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    try {
      const url = new URL(req.url, 'http://app.invalid');
      if (req.method === 'GET' && url.pathname === '/') return send(200, 'text/html; charset=utf-8', PAGE);
      if (req.method === 'GET' && url.pathname === '/tus.min.js') return send(200, 'text/javascript; charset=utf-8', tusJs);
      if (req.method === 'POST' && url.pathname === '/api/upload-ticket') {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        const asked = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        const input = { expiresInSeconds: 600, tags: [{ name: 'browser-e2e' }] };
        if (asked.fileName) input.fileName = asked.fileName;
        const { status, body } = await graphql(satchel.base, satchel.keys.secretKey, TICKET_MUTATION, { input });
        ticketCalls.push({ status, body });
        const ticket = body.data?.createUploadTicket;
        if (status !== 200 || body.errors || !ticket) return send(502, 'application/json', JSON.stringify({ status, body }));
        return send(200, 'application/json', JSON.stringify(ticket));
      }
      return send(404, 'text/plain', 'not found');
    } catch (err) {
      return send(500, 'text/plain', String(err?.stack || err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    ticketCalls,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

// ---------------------------------------------------------------------------
// Tests

describe('two-step browser upload in headless Chromium', () => {
  let srv;
  let app;
  let browser;
  let page;
  const consoleMsgs = [];
  const pageErrors = [];
  const failedRequests = [];
  const requests = [];
  const errorResponses = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM),
      `${CHROMIUM} not found: install Debian's chromium package (bash scripts/deps.sh does) or set CHROMIUM_PATH`);
    srv = await startSatchel();
    app = await startApp(srv);
    assert.notEqual(new URL(app.origin).origin, new URL(srv.base).origin);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS, // playwright-core adds a fresh, empty --user-data-dir
      timeout: 30_000,
    });
    const context = await browser.newContext();
    page = await context.newPage();
    page.on('console', (msg) => {
      const loc = msg.location();
      consoleMsgs.push({ type: msg.type(), text: msg.text(), url: loc?.url ?? '' });
    });
    page.on('pageerror', (err) => pageErrors.push(String(err?.stack || err)));
    page.on('requestfailed', (req) => failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
    page.on('request', (req) => requests.push(req));
    page.on('response', (res) => {
      if (res.status() < 400) return;
      errorResponses.push({ method: res.request().method(), url: res.url(), status: res.status(), headers: res.allHeaders().catch((e) => ({ error: String(e) })) });
    });
    const nav = await page.goto(`${app.origin}/`);
    assert.equal(nav.status(), 200);
    assert.equal(await page.textContent('#status'), 'loaded', 'tus-js-client did not load in the page');
  }, { timeout: 60_000 });

  after(async () => {
    if (process.env.SATCHEL_E2E_LOGS) {
      process.stderr.write(`--- browser console ---\n${consoleMsgs.map((m) => `[${m.type}] ${m.text} (${m.url})`).join('\n')}\n`);
      if (srv) process.stderr.write(`--- satchel output ---\n${srv.logs()}\n`);
    }
    await browser?.close().catch(() => {});
    await app?.close();
    await stopSatchel(srv);
  });

  /** What the browser logged that a test did not expect; `expected` filters known lines. */
  function unexpectedBrowserEvents(expected = () => false) {
    return {
      console: consoleMsgs.filter((m) => (m.type === 'error' || m.type === 'warning') && !expected(m)),
      cors: consoleMsgs.filter((m) => /CORS|Access-Control|cross-origin|blocked by/i.test(m.text)),
      pageErrors: [...pageErrors],
      failedRequests: [...failedRequests],
    };
  }

  /** Asserts a file through GraphQL (secret key) and GET /files/{id}. */
  async function assertStored(fileId, { name, mime, sha256, size, bytes }) {
    const { status, body } = await graphql(srv.base, srv.keys.secretKey,
      'query($id: ID!){ file(id:$id){ id name mime size sha256 url tags { name } } }', { id: fileId });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const file = body.data.file;
    assert.ok(file, `file ${fileId} not found through GraphQL`);
    assert.deepEqual(
      { id: file.id, name: file.name, mime: file.mime, size: file.size, sha256: file.sha256, tags: file.tags },
      { id: fileId, name, mime, size, sha256, tags: [{ name: 'browser-e2e' }] });
    const res = await fetch(`${srv.base}/files/${fileId}`);
    assert.equal(res.status, 200);
    const got = Buffer.from(await res.arrayBuffer());
    assert.equal(got.length, size);
    assert.equal(sha256hex(got), sha256, 'downloaded bytes have another SHA-256 than the page computed');
    assert.ok(got.equals(bytes), 'downloaded bytes differ from the bytes the page uploaded');
  }

  let tusResult;
  let oneShotResult;

  test('tus-js-client uploads 6 MiB in 2 MiB chunks with an upload ID and no key', { timeout: 60_000 }, async () => {
    tusResult = await page.evaluate(([size, chunk]) => window.uploadWithTus(size, chunk), [SIZE, CHUNK]);
    const { ticket, fileId, sha256, size, methods, lastProgress } = tusResult;
    assert.match(ticket.uploadId, /^[A-Za-z0-9_-]{16,}$/);
    assert.equal(ticket.tusEndpoint, `${srv.base}/uploads/`);
    assert.ok(tusResult.uploadUrl.startsWith(ticket.tusEndpoint), tusResult.uploadUrl);
    assert.match(sha256, /^[0-9a-f]{64}$/);
    assert.equal(size, SIZE);
    assert.deepEqual(methods, ['POST', 'PATCH', 'PATCH', 'PATCH'], `tus requests: ${methods}`);
    assert.deepEqual(lastProgress, [SIZE, SIZE]);
    assert.equal(tusResult.readBack, true, 'the page read back other bytes from GET /files/{id}');

    await assertStored(fileId, {
      name: 'browser-tus.bin', mime: 'application/octet-stream', sha256, size, bytes: Buffer.from(tusResult.bytes, 'base64'),
    });
  });

  test('a one-shot POST to uploadUrl stores the Blob', { timeout: 60_000 }, async () => {
    oneShotResult = await page.evaluate((size) => window.uploadOneShot(size), SIZE);
    const { ticket, status, body, sha256, size } = oneShotResult;
    assert.equal(ticket.uploadUrl, `${srv.base}/files/public/${ticket.uploadId}`);
    assert.notEqual(ticket.uploadId, tusResult?.ticket.uploadId);
    assert.ok(status === 200 || status === 201, `one-shot POST answered ${status}: ${JSON.stringify(body)}`);
    assert.match(body.fileId ?? '', /^[A-Za-z0-9_-]{16,}$/, JSON.stringify(body));
    assert.equal(body.fileUrl, `${srv.base}/files/${body.fileId}`);
    assert.equal(oneShotResult.readBack, true, 'the page read back other bytes from fileUrl');

    await assertStored(body.fileId, {
      name: 'browser-oneshot.bin', mime: 'application/x-browser-e2e', sha256, size, bytes: Buffer.from(oneShotResult.bytes, 'base64'),
    });
  });

  test('a spent upload ID gets a 409 UPLOAD_ID_USED JSON error the page can read', { timeout: 30_000 }, async () => {
    assert.ok(tusResult && oneShotResult, 'the upload tests did not run');

    const viaFetch = await page.evaluate((url) => window.reuseOneShot(url), oneShotResult.ticket.uploadUrl);
    assert.equal(viaFetch.status, 409, JSON.stringify(viaFetch));
    assert.match(viaFetch.contentType ?? '', /^application\/json\b/, JSON.stringify(viaFetch));
    assert.equal(JSON.parse(viaFetch.text).error?.code, 'UPLOAD_ID_USED', viaFetch.text);

    // The tus ticket, reused for a one-shot POST and for a new tus creation.
    const crossed = await page.evaluate((url) => window.reuseOneShot(url), tusResult.ticket.uploadUrl);
    assert.equal(crossed.status, 409, JSON.stringify(crossed));
    assert.equal(JSON.parse(crossed.text).error?.code, 'UPLOAD_ID_USED', crossed.text);

    const viaTus = await page.evaluate((ticket) => window.reuseTus(ticket), tusResult.ticket);
    assert.equal(viaTus.succeeded, false, 'a tus upload with a spent upload ID succeeded');
    assert.equal(viaTus.method, 'POST', JSON.stringify(viaTus));
    assert.equal(viaTus.status, 409, JSON.stringify(viaTus));
    assert.match(viaTus.contentType ?? '', /^application\/json\b/, JSON.stringify(viaTus));
    assert.equal(JSON.parse(viaTus.text).error?.code, 'UPLOAD_ID_USED', viaTus.text);

    // The browser saw the CORS headers on those error responses.
    const refused = errorResponses.filter((r) => r.status === 409);
    assert.equal(refused.length, 3, JSON.stringify(errorResponses, null, 1));
    for (const r of refused) {
      r.headers = await r.headers;
      assert.equal(r.headers['access-control-allow-origin'], app.origin, `${r.method} ${r.url}: ${JSON.stringify(r.headers)}`);
    }
  });

  test('no CORS error, page error or failed request; the secret key stays on the backend', async () => {
    // Chromium logs every 4xx as "Failed to load resource: ... status of 409";
    // those three are the refusals the previous test asked for.
    const spent = new Set([oneShotResult?.ticket.uploadUrl, tusResult?.ticket.uploadUrl, tusResult?.ticket.tusEndpoint]);
    const expected = (m) => m.type === 'error' && /status of 409\b/.test(m.text) && spent.has(m.url);
    const seen = unexpectedBrowserEvents(expected);
    assert.deepEqual(seen, { console: [], cors: [], pageErrors: [], failedRequests: [] });
    assert.ok(errorResponses.every((r) => r.status === 409), JSON.stringify(errorResponses, null, 1));

    // The page talked to both origins, and never with a key.
    const toSatchel = requests.filter((r) => r.url().startsWith(`${srv.base}/`));
    const toApp = requests.filter((r) => r.url().startsWith(`${app.origin}/`));
    assert.ok(toSatchel.length >= 7, `requests to satchel: ${toSatchel.map((r) => r.url())}`);
    assert.ok(toApp.some((r) => r.url() === `${app.origin}/api/upload-ticket`));
    for (const req of requests) {
      const headers = await req.allHeaders();
      assert.equal(headers.authorization, undefined, `${req.method()} ${req.url()} carried Authorization`);
      assert.ok(!JSON.stringify(headers).includes(srv.keys.secretKey), `${req.url()} carried the secret key`);
    }
    assert.ok(toSatchel.every((r) => r.headers().origin === undefined || r.headers().origin === app.origin));
    assert.ok(app.ticketCalls.length >= 2 && app.ticketCalls.every((c) => c.status === 200));
  });
});
