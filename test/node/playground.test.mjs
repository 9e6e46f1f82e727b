// End-to-end test of the GraphQL playground in real headless Chromium
// (Debian's /usr/bin/chromium driven by playwright-core) with no internet:
// every request that is not to satchel's own origin is aborted and recorded,
// and the test fails if the page tried one. GraphiQL must come from the
// binary alone, load the schema, and run a query with the bootstrap secret
// key typed into its headers pane; the key must not end up in localStorage
// unless the user turns on "Persist headers"; and the page's
// Content-Security-Policy must hold with no violation and no console error.
//
// Run:  go build -o bin/satchel . && cd test/node && npm ci && node --test playground.test.mjs
// The binary is $SATCHEL_BIN, or ../../bin/satchel relative to this file; the
// browser is $CHROMIUM_PATH or /usr/bin/chromium. SATCHEL_E2E_LOGS=1 prints
// the server's output and everything the browser logged.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { startSatchel, stopSatchel } from './satchel.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// CodeMirror 5 editors of GraphiQL 4.
const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const RESULT = '.result-window .CodeMirror';

describe('the GraphQL playground in headless Chromium with no internet', () => {
  let srv;
  let browser;
  let context;
  let page;
  let fileId;
  const outside = []; // requests the page tried to send anywhere but satchel
  const consoleMsgs = [];
  const pageErrors = [];
  const failedRequests = [];
  const requests = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM),
      `${CHROMIUM} not found: install Debian's chromium package (bash scripts/deps.sh test does) or set CHROMIUM_PATH`);
    srv = await startSatchel();

    // A file for the query to find.
    const res = await fetch(`${srv.base}/files/basic`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${srv.keys.secretKey}`, 'Content-Type': 'text/plain', 'X-Upload-File-Name': 'playground.txt' },
      body: 'found through the playground',
    });
    const uploaded = await res.json();
    assert.ok(res.status === 200 || res.status === 201, JSON.stringify(uploaded));
    fileId = uploaded.fileId;

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    context = await browser.newContext({ serviceWorkers: 'block' });
    // No internet: only satchel's origin answers; anything else is aborted
    // (and recorded: the page must not even try).
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === srv.base) return route.continue();
      outside.push(`${route.request().method()} ${url}`);
      return route.abort('internetdisconnected');
    });
    // CSP violations, as the page sees them.
    await context.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
      });
    });
    page = await context.newPage();
    page.on('console', (msg) => consoleMsgs.push({ type: msg.type(), text: msg.text(), url: msg.location()?.url ?? '' }));
    page.on('pageerror', (err) => pageErrors.push(String(err?.stack || err)));
    page.on('requestfailed', (req) => failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
    page.on('request', (req) => requests.push(req));
  }, { timeout: 60_000 });

  after(async () => {
    if (process.env.SATCHEL_E2E_LOGS) {
      process.stderr.write(`--- browser console ---\n${consoleMsgs.map((m) => `[${m.type}] ${m.text} (${m.url})`).join('\n')}\n`);
      if (srv) process.stderr.write(`--- satchel output ---\n${srv.logs()}\n`);
    }
    await browser?.close().catch(() => {});
    await stopSatchel(srv);
  });

  const editorValue = (selector) => page.evaluate((s) => document.querySelector(s).CodeMirror.getValue(), selector);

  /** Replaces an editor's text as a paste would (no auto-closed brackets). */
  async function replaceText(selector, text) {
    await page.locator(selector).click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(text);
    await page.waitForFunction(([s, t]) => document.querySelector(s).CodeMirror.getValue() === t, [selector, text]);
  }

  /** The localStorage and sessionStorage entries whose value holds the secret key. */
  const storedKey = () => page.evaluate((key) => {
    const hits = [];
    for (const [name, store] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
      for (let i = 0; i < store.length; i++) {
        const k = store.key(i);
        if (store.getItem(k).includes(key)) hits.push(`${name}:${k}`);
      }
    }
    return hits;
  }, srv.keys.secretKey);

  async function openSettings() {
    await page.getByRole('button', { name: /settings/i }).click();
    await page.locator('#enable-persist-headers').waitFor();
  }

  async function reload() {
    await page.reload();
    await page.locator(QUERY_EDITOR).waitFor();
  }

  test('GET / renders GraphiQL from the binary alone and loads the schema', { timeout: 60_000 }, async () => {
    const introspection = page.waitForResponse((res) => res.url() === `${srv.base}/graphql`
      && /IntrospectionQuery/.test(res.request().postData() ?? ''));
    const nav = await page.goto(`${srv.base}/`);
    assert.equal(nav.status(), 200);
    assert.match(nav.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);

    const res = await introspection;
    assert.equal(res.status(), 200);
    const schema = await res.json();
    assert.equal(schema.errors, undefined, JSON.stringify(schema.errors));
    assert.equal(schema.data.__schema.queryType.name, 'Query');

    await page.locator(QUERY_EDITOR).waitFor();
    assert.match(await editorValue(QUERY_EDITOR), /Satchel GraphQL playground/);
    await page.getByRole('button', { name: 'Headers', exact: true }).click();
    assert.match(await editorValue(HEADERS_EDITOR), /"Authorization": "Bearer "/);

    // The documentation explorer has the schema.
    await page.getByRole('button', { name: /documentation/i }).click();
    await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).first().waitFor();

    const paths = requests.map((r) => new URL(r.url()).pathname);
    assert.ok(paths.some((p) => /^\/playground\/graphiql\.min\.[0-9a-f]{12}\.js$/.test(p)), paths.join('\n'));
    assert.deepEqual(outside, [], 'the page tried to reach the internet');
  });

  test('a query run with the secret key typed into the headers pane shows the file', { timeout: 60_000 }, async () => {
    await replaceText(HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${srv.keys.secretKey}` }, null, 2));
    const query = 'query Latest { files(first: 1) { edges { node { id name } } } }';
    await replaceText(QUERY_EDITOR, query);
    // GraphiQL reads the operation name from the editor after a short delay.
    await page.waitForFunction((q) => localStorage.getItem('graphiql:query') === q, query);

    const sent = page.waitForRequest((req) => req.url() === `${srv.base}/graphql` && /Latest/.test(req.postData() ?? ''));
    await page.locator('.graphiql-execute-button').click();
    const req = await sent;
    assert.equal((await req.allHeaders()).authorization, `Bearer ${srv.keys.secretKey}`);

    await page.waitForFunction((s) => /"data"|"errors"/.test(document.querySelector(s).CodeMirror.getValue()), RESULT);
    const result = JSON.parse(await editorValue(RESULT));
    assert.deepEqual(result, { data: { files: { edges: [{ node: { id: fileId, name: 'playground.txt' } }] } } });
  });

  test('the key stays out of localStorage unless the user turns on "Persist headers"', { timeout: 60_000 }, async () => {
    assert.deepEqual(await storedKey(), [], 'the secret key was stored with persistence off');
    await reload();
    assert.doesNotMatch(await editorValue(HEADERS_EDITOR), /secret_/, 'the key came back after a reload');
    assert.deepEqual(await storedKey(), []);

    // The user turns persistence on: the key is kept, across a reload.
    await replaceText(HEADERS_EDITOR, JSON.stringify({ Authorization: `Bearer ${srv.keys.secretKey}` }, null, 2));
    await openSettings();
    await page.locator('#enable-persist-headers').click();
    await page.keyboard.press('Escape');
    assert.notDeepEqual(await storedKey(), [], 'persistence on, but the key was not stored');
    await reload();
    assert.match(await editorValue(HEADERS_EDITOR), new RegExp(`Bearer ${srv.keys.secretKey}`));

    // And off again: nothing of it is left.
    await openSettings();
    await page.locator('#disable-persist-headers').click();
    await page.keyboard.press('Escape');
    assert.deepEqual(await storedKey(), [], 'persistence off again, but the key is still stored');
    await reload();
    assert.doesNotMatch(await editorValue(HEADERS_EDITOR), /secret_/);
  });

  test('no console error, CSP violation, page error or failed request; nothing left the machine', async () => {
    assert.deepEqual({
      console: consoleMsgs.filter((m) => m.type === 'error' || /Content.Security.Policy/i.test(m.text)),
      csp: await page.evaluate(() => window.cspViolations),
      pageErrors,
      failedRequests,
      outside,
    }, { console: [], csp: [], pageErrors: [], failedRequests: [], outside: [] });
    const origins = new Set(requests.map((r) => new URL(r.url()).origin));
    assert.deepEqual([...origins], [srv.base]);
  });

  test('the CSP lets the page connect to its own origin (http and ws) and nowhere else', { timeout: 30_000 }, async () => {
    const probe = await context.newPage();
    await probe.goto(`${srv.base}/`);
    const seen = await probe.evaluate(async () => {
      const wait = () => new Promise((r) => setTimeout(r, 300));
      const before = window.cspViolations.length;
      new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`).onerror = () => {};
      await fetch('/healthz');
      await wait();
      const own = window.cspViolations.slice(before);
      let outsideRefused = false;
      try { await fetch('http://example.invalid/'); } catch { outsideRefused = true; }
      await wait();
      return { own, outsideRefused, all: window.cspViolations.slice(before) };
    });
    await probe.close();
    assert.deepEqual(seen.own, [], 'same-origin http or ws was refused by the CSP');
    assert.equal(seen.outsideRefused, true);
    assert.ok(seen.all.some((v) => v.startsWith('connect-src blocked http://example.invalid')), JSON.stringify(seen.all));
  });
});
