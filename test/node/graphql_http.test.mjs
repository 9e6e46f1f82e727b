// The GraphQL-over-HTTP spec audit from graphql-http (the reference
// implementation's own test suite for servers), run against the satchel
// binary with a secret key. Every audit must pass: the MUSTs, the SHOULDs
// and the MAYs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAudits } from 'graphql-http';
import { startSatchel, stopSatchel } from './satchel.mjs';

let srv;
before(async () => { srv = await startSatchel(); });
after(async () => { await stopSatchel(srv); });

describe('GraphQL over HTTP', () => {
  test('serverAudits: every audit passes', async () => {
    const audits = serverAudits({
      url: () => `${srv.base}/graphql`,
      fetchFn: (input, init = {}) => {
        const headers = new Headers(init.headers);
        headers.set('Authorization', `Bearer ${srv.keys.secretKey}`);
        return fetch(input, { ...init, headers });
      },
    });
    assert.ok(audits.length > 20, `only ${audits.length} audits`);
    const failures = [];
    let passed = 0;
    for (const audit of audits) {
      const result = await audit.fn();
      if (result.status === 'ok') {
        passed++;
      } else {
        failures.push(`${audit.name}: ${result.reason}`);
      }
    }
    console.log(`graphql-http audits: ${passed}/${audits.length} ok`);
    assert.deepEqual(failures, []);
  });
});
