// The few S3 calls the Node tests make themselves: create a bucket for a
// server, and empty and remove it afterwards. Requests are signed with AWS
// Signature Version 4 here, with node:crypto: five calls do not need an
// SDK (@aws-sdk/client-s3 would bring about a hundred packages into the
// lockfile), and every S3 run exercises this code, since the tests create
// their buckets this way on versitygw too.

import { createHash, createHmac } from 'node:crypto';

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as Signature Version 4 wants it (slashes kept in paths). */
function encode(s, keepSlash = false) {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

/**
 * An S3 server reached path-style at endpoint with static credentials
 * ({ accessKeyId, secretAccessKey, sessionToken?, region }).
 */
export class S3 {
  constructor(endpoint, creds) {
    this.endpoint = new URL(endpoint);
    this.creds = creds;
  }

  /** Sends one signed request; resolves to { status, text }. */
  async request(method, path, query = {}, body = '') {
    const url = new URL(this.endpoint);
    url.pathname = encode(path, true);
    const pairs = Object.entries(query).map(([k, v]) => [encode(k), encode(String(v))]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const canonicalQuery = pairs.map(([k, v]) => `${k}=${v}`).join('&');
    url.search = canonicalQuery;
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''); // 20260101T000000Z
    const date = amzDate.slice(0, 8);
    const payload = sha256(body);
    const headers = { host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate };
    if (this.creds.sessionToken) headers['x-amz-security-token'] = this.creds.sessionToken;
    const names = Object.keys(headers).sort();
    const canonical = [method, url.pathname, canonicalQuery,
      names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), payload].join('\n');
    const scope = `${date}/${this.creds.region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
    let key = hmac('AWS4' + this.creds.secretAccessKey, date);
    for (const part of [this.creds.region, 's3', 'aws4_request']) key = hmac(key, part);
    const signature = createHmac('sha256', key).update(toSign).digest('hex');
    const { host, ...sent } = headers; // fetch sets Host itself, to the same value
    sent.authorization = `AWS4-HMAC-SHA256 Credential=${this.creds.accessKeyId}/${scope}, ` +
      `SignedHeaders=${names.join(';')}, Signature=${signature}`;
    const res = await fetch(url, { method, headers: sent, body: body === '' ? undefined : body, signal: AbortSignal.timeout(30_000) });
    return { status: res.status, text: await res.text() };
  }

  async ok(what, method, path, query, body) {
    const res = await this.request(method, path, query, body);
    if (res.status >= 300) throw new Error(`S3 ${what}: ${res.status} ${res.text.slice(0, 500)}`);
    return res.text;
  }

  /** Creates bucket (in the credentials' region). */
  async createBucket(bucket) {
    const body = this.creds.region === 'us-east-1' ? ''
      : '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<LocationConstraint>${this.creds.region}</LocationConstraint></CreateBucketConfiguration>`;
    await this.ok(`create bucket ${bucket}`, 'PUT', `/${bucket}`, {}, body);
  }

  /** Aborts the bucket's unfinished multipart uploads, deletes its objects, then the bucket. */
  async removeBucket(bucket) {
    for (;;) {
      const xml = await this.ok(`list the uploads of ${bucket}`, 'GET', `/${bucket}`, { uploads: '' });
      const uploads = [...xml.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)].map((m) => ({
        key: text(m[1], 'Key'), id: text(m[1], 'UploadId'),
      }));
      for (const u of uploads) await this.ok(`abort ${u.key}`, 'DELETE', `/${bucket}/${u.key}`, { uploadId: u.id });
      if (uploads.length === 0 || text(xml, 'IsTruncated') !== 'true') break;
    }
    for (;;) {
      const xml = await this.ok(`list ${bucket}`, 'GET', `/${bucket}`, { 'list-type': 2 });
      const keys = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => text(m[1], 'Key'));
      for (const k of keys) await this.ok(`delete ${k}`, 'DELETE', `/${bucket}/${k}`);
      if (keys.length === 0) break;
    }
    await this.ok(`delete bucket ${bucket}`, 'DELETE', `/${bucket}`);
  }
}

/** The text of the first <tag> in xml, entities decoded. */
function text(xml, tag) {
  const m = xml.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`));
  if (!m) return '';
  return m[1].replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-f]+);/gi, (_, e) => ({
    lt: '<', gt: '>', quot: '"', apos: "'", amp: '&',
  })[e.toLowerCase()] ?? String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)));
}
