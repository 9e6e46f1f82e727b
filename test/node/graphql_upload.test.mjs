// GraphQL `uploadFile` end to end, against the satchel binary, with real
// clients of the GraphQL multipart request spec
// (https://github.com/jaydenseric/graphql-multipart-request-spec):
//
// - @urql/core's fetchExchange, which turns File and Blob variables into a
//   multipart request by itself (its own extract-files and FormData);
// - the browser-standard FormData + fetch, laid out exactly as
//   apollo-upload-client builds it (operations, map, then one part per
//   file, appended with the file's name).
//
// Every stored file is checked byte for byte through its delivery URL.
//
// Run:  cd /work/main && go build -o bin/satchel . && cd test/node && npm ci && node --test

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Client, fetchExchange, gql } from '@urql/core';
import { startSatchel, stopSatchel } from './satchel.mjs';

const UPLOAD = gql`
  mutation Upload($file: Upload!, $input: UploadFileInput) {
    uploadFile(file: $file, input: $input) {
      id accountId name mime size sha256 url tags { name searchable }
    }
  }
`;

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

let srv;
before(async () => { srv = await startSatchel(); });
after(async () => {
  if (process.env.SATCHEL_E2E_LOGS) console.log(srv?.logs());
  await stopSatchel(srv);
});

function urql(key) {
  return new Client({
    url: `${srv.base}/graphql`,
    exchanges: [fetchExchange],
    requestPolicy: 'network-only',
    fetchOptions: () => (key ? { headers: { Authorization: `Bearer ${key}` } } : {}),
  });
}

/** Downloads a File's URL and checks it holds exactly `bytes`. */
async function assertStored(file, bytes) {
  assert.equal(file.size, bytes.length);
  assert.equal(file.sha256, sha256(bytes));
  assert.equal(file.url, `${srv.base}/files/${file.id}`);
  const res = await fetch(file.url);
  assert.equal(res.status, 200);
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(got.length, bytes.length);
  assert.ok(got.equals(bytes), 'downloaded bytes differ from the uploaded ones');
}

describe('GraphQL uploadFile with @urql/core', () => {
  test('a 5 MB File with a public key, tags from the input', { timeout: 60_000 }, async () => {
    const bytes = randomBytes(5 * 1000 * 1000 + 3);
    const file = new File([bytes], 'holiday photo.bin', { type: 'application/octet-stream' });
    const result = await urql(srv.keys.publicKey).mutation(UPLOAD, {
      file,
      input: { tags: [{ name: 'album:2026' }, { name: 'private', searchable: false }] },
    }).toPromise();
    assert.equal(result.error, undefined, result.error?.message);
    const f = result.data.uploadFile;
    assert.equal(f.name, 'holiday photo.bin');
    assert.equal(f.mime, 'application/octet-stream');
    assert.equal(f.accountId, srv.keys.accountId);
    assert.deepEqual(f.tags, [{ name: 'album:2026', searchable: true }, { name: 'private', searchable: false }]);
    await assertStored(f, bytes);
  });

  test('a Blob with a secret key; name and type from the input', async () => {
    const bytes = Buffer.from('{"hello":"world"}');
    const result = await urql(srv.keys.secretKey).mutation(UPLOAD, {
      file: new Blob([bytes]),
      input: { fileName: 'hello.json', mime: 'application/json' },
    }).toPromise();
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.data.uploadFile.name, 'hello.json');
    assert.equal(result.data.uploadFile.mime, 'application/json');
    await assertStored(result.data.uploadFile, bytes);
  });

  test('two files in one operation', { timeout: 60_000 }, async () => {
    const one = randomBytes(1 << 20);
    const two = randomBytes((2 << 20) + 11);
    const result = await urql(srv.keys.publicKey).mutation(gql`
      mutation Two($a: Upload!, $b: Upload!) {
        a: uploadFile(file: $a) { id name mime size sha256 url }
        b: uploadFile(file: $b) { id name mime size sha256 url }
      }
    `, {
      a: new File([one], 'one.bin', { type: 'application/x-one' }),
      b: new File([two], 'two.txt', { type: 'text/plain' }),
    }).toPromise();
    assert.equal(result.error, undefined, result.error?.message);
    assert.equal(result.data.a.name, 'one.bin');
    assert.equal(result.data.a.mime, 'application/x-one');
    assert.equal(result.data.b.name, 'two.txt');
    assert.equal(result.data.b.mime, 'text/plain');
    await assertStored(result.data.a, one);
    await assertStored(result.data.b, two);
  });

  test('no key: the client sees 401 UNAUTHENTICATED', async () => {
    const result = await urql(null).mutation(UPLOAD, { file: new File(['x'], 'x.txt') }).toPromise();
    assert.ok(result.error, 'an upload without a key succeeded');
    assert.equal(result.error.response?.status, 401);
    assert.equal(result.error.graphQLErrors[0]?.extensions?.code, 'UNAUTHENTICATED');
  });
});

/**
 * A GraphQL multipart request laid out as apollo-upload-client lays it out:
 * operations, map, then each file appended under its index with its name.
 */
function specForm(operations, files) {
  const form = new FormData();
  form.append('operations', JSON.stringify(operations));
  const map = {};
  files.forEach(([, paths], i) => { map[i] = paths; });
  form.append('map', JSON.stringify(map));
  files.forEach(([file], i) => form.append(String(i), file, file.name));
  return form;
}

async function post(form, key) {
  const headers = { Accept: 'application/graphql-response+json, application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  const res = await fetch(`${srv.base}/graphql`, { method: 'POST', body: form, headers });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

describe('GraphQL uploadFile with FormData + fetch (the apollo-upload-client layout)', () => {
  const query = 'mutation ($file: Upload!) { uploadFile(file: $file) { id name mime size sha256 url } }';

  test('a spec request stores the file', { timeout: 60_000 }, async () => {
    const bytes = randomBytes(3 * 1024 * 1024);
    const form = specForm({ query, variables: { file: null } },
      [[new File([bytes], 'résumé ✓.pdf', { type: 'application/pdf' }), ['variables.file']]]);
    const { status, body } = await post(form, srv.keys.publicKey);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.errors, undefined);
    assert.equal(body.data.uploadFile.name, 'résumé ✓.pdf');
    assert.equal(body.data.uploadFile.mime, 'application/pdf');
    await assertStored(body.data.uploadFile, bytes);
  });

  const file = () => new File(['some bytes'], 'bad.txt', { type: 'text/plain' });
  const cases = [
    { name: 'no key', key: null, status: 401, code: 'UNAUTHENTICATED',
      form: () => specForm({ query, variables: { file: null } }, [[file(), ['variables.file']]]) },
    { name: 'map path not in the variables', status: 400, code: 'BAD_USER_INPUT',
      form: () => specForm({ query, variables: { file: null } }, [[file(), ['variables.nope']]]) },
    { name: 'mapped file never sent', status: 400, code: 'BAD_USER_INPUT',
      form: () => {
        const f = new FormData();
        f.append('operations', JSON.stringify({ query, variables: { file: null } }));
        f.append('map', JSON.stringify({ 0: ['variables.file'] }));
        return f;
      } },
    { name: 'file not in the map', status: 400, code: 'BAD_USER_INPUT',
      form: () => {
        const f = new FormData();
        f.append('operations', JSON.stringify({ query, variables: { file: null } }));
        f.append('map', JSON.stringify({ 0: ['variables.file'] }));
        f.append('0', file(), 'a.txt');
        f.append('1', file(), 'b.txt');
        return f;
      } },
    { name: 'batched operations', status: 400, code: 'BAD_USER_INPUT',
      form: () => {
        const f = new FormData();
        f.append('operations', JSON.stringify([{ query, variables: { file: null } }]));
        f.append('map', JSON.stringify({ 0: ['0.variables.file'] }));
        f.append('0', file(), 'a.txt');
        return f;
      } },
    { name: 'map missing', status: 400, code: 'BAD_USER_INPUT',
      form: () => {
        const f = new FormData();
        f.append('operations', JSON.stringify({ query, variables: { file: null } }));
        f.append('0', file(), 'a.txt');
        return f;
      } },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.status} ${c.code}`, async () => {
      const { status, type, body } = await post(c.form(), c.key === undefined ? srv.keys.publicKey : c.key);
      assert.equal(status, c.status, JSON.stringify(body));
      assert.match(type, /^application\/json/);
      assert.equal(body.data, undefined);
      assert.equal(body.errors[0].extensions.code, c.code);
      assert.ok(body.errors[0].message.length > 0);
    });
  }

  test('the server still takes uploads afterwards', async () => {
    const bytes = Buffer.from('still here');
    const { status, body } = await post(
      specForm({ query, variables: { file: null } }, [[new File([bytes], 'after.txt', { type: 'text/plain' }), ['variables.file']]]),
      srv.keys.publicKey);
    assert.equal(status, 200, JSON.stringify(body));
    await assertStored(body.data.uploadFile, bytes);
  });
});
