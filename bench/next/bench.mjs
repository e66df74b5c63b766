// Measures @logto/next (edge entry) on the reference session
// (bench/testdata/reference-session.json):
//
//  1. the session cookie @logto/next writes for it, built with the package's own
//     CookieStorage (default wrapSession: AES-256-GCM) over @edge-runtime/cookies'
//     ResponseCookies, exactly as `@logto/next/edge` wires them; its size as the
//     browser sends it back (name=value, URL-encoded) and whether it exceeds 4096;
//  2. the per-request context path: `getLogtoContext(request)` (no options) of
//     `@logto/next/edge` on a Web Request carrying that cookie, timed over N
//     sequential iterations after a warm-up.
//
// fetch is mocked: discovery and JWKS are answered in memory and counted, and any
// other URL fails, so nothing leaves the machine. (With no options getContext
// makes no request at all; fetchCalls in the output shows it.)
//
// Usage: node bench.mjs [--session=PATH] [--iterations=N] [--rounds=R] [--warmup=N]
// R timed rounds of N iterations each; nsPerOp is the median round, nsPerOpMin
// the fastest (the machine may be shared: the median resists noise).
// stdout: one JSON line; stderr: human-readable notes.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { RequestCookies, ResponseCookies } from '@edge-runtime/cookies';
import { CookieStorage, unwrapSession } from '@logto/node';
import LogtoClient from '@logto/next/edge';
import { createLocalJWKSet, jwtVerify } from 'jose';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (!m) throw new Error(`bad argument ${a}`);
    return [m[1], m[2]];
  }),
);
const sessionPath =
  args.session ?? fileURLToPath(new URL('../testdata/reference-session.json', import.meta.url));
const iterations = Number(args.iterations ?? 10000);
const rounds = Number(args.rounds ?? 5);
const warmup = Number(args.warmup ?? 5000);
const note = (...m) => console.error(...m);

const ref = JSON.parse(await readFile(sessionPath, 'utf8'));
const version = (p) =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`node_modules/${p}/package.json`, import.meta.url)), 'utf8'),
  ).version;

// --- fetch mock: nothing leaves the machine -----------------------------------
const fetchCalls = [];
const issuer = ref.issuer ?? `${ref.endpoint}/oidc`;
globalThis.fetch = async (input) => {
  const url = String(input instanceof Request ? input.url : input);
  fetchCalls.push(url);
  const json = (body) =>
    new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  if (url === `${ref.endpoint}/oidc/.well-known/openid-configuration`) {
    return json({
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      userinfo_endpoint: `${issuer}/me`,
      end_session_endpoint: `${issuer}/session/end`,
      revocation_endpoint: `${issuer}/token/revocation`,
      jwks_uri: `${issuer}/jwks`,
    });
  }
  if (url === `${issuer}/jwks`) return json(ref.jwks);
  throw new TypeError(`bench: unexpected fetch ${url}`);
};

// --- sanity: the reference tokens verify against the reference JWKS -----------
const keySet = createLocalJWKSet(ref.jwks);
await jwtVerify(ref.idToken, keySet, { issuer, audience: ref.appId });
for (const [key, { token }] of Object.entries(ref.accessTokens)) {
  if (key !== '@') await jwtVerify(token, keySet, { issuer, audience: key.slice(1), typ: 'at+jwt' });
}

// --- 1. the cookie, written by @logto/node's CookieStorage ----------------------
// The same wiring as createRequestScopedClient in @logto/next/edge; the writes in
// the order the sign-in callback and three getAccessToken(resource) calls make
// them (refreshToken, idToken, then the access-token map, a JSON string).
const cookieName = `logto_${ref.appId}`;
const responseHeaders = new Headers();
const responseCookies = new ResponseCookies(responseHeaders);
const storage = new CookieStorage({
  encryptionKey: ref.cookieSecret,
  cookieKey: cookieName,
  isSecure: false,
  getCookie: () => '',
  setCookie: (name, value, options) => responseCookies.set(name, value, options),
});
await storage.init();
const sessionData = {
  refreshToken: ref.refreshToken,
  idToken: ref.idToken,
  accessToken: JSON.stringify(ref.accessTokens),
};
for (const [k, v] of Object.entries(sessionData)) await storage.setItem(k, v);
const setCookie = responseHeaders.getSetCookie();
if (setCookie.length !== 1) throw new Error(`expected one Set-Cookie, got ${setCookie.length}`);
const cookiePair = setCookie[0].slice(0, setCookie[0].indexOf(';')); // what the browser sends back
const cookieBytes = Buffer.byteLength(cookiePair);
// Without URL-encoding the length depends on the JSON size only (the URL-encoded
// length varies by a few dozen bytes with the random IV: each + / = costs 2 more).
const cookieBytesUnencoded = Buffer.byteLength(decodeURIComponent(cookiePair));
const sessionDataBytes = Buffer.byteLength(JSON.stringify(sessionData));
const roundTrip = await unwrapSession(
  decodeURIComponent(cookiePair.slice(cookieName.length + 1)),
  ref.cookieSecret,
);
if (!isDeepStrictEqual(roundTrip, sessionData)) throw new Error('cookie does not unwrap to the session');
note(`@logto/next ${version('@logto/next')} / @logto/node ${version('@logto/node')} on node ${process.version}`);
note(`SessionData JSON: ${sessionDataBytes} bytes`);
note(`cookie as sent (name=value): ${cookieBytes} bytes (${cookieBytesUnencoded} before URL-encoding); exceeds 4096: ${cookieBytes > 4096}`);
note(`Set-Cookie header value: ${Buffer.byteLength(setCookie[0])} bytes`);

// --- 2. the per-request context path -------------------------------------------
const client = new LogtoClient({
  endpoint: ref.endpoint,
  appId: ref.appId,
  appSecret: 'bench-app-secret-not-used-0000000',
  baseUrl: 'http://localhost:3000',
  cookieSecret: ref.cookieSecret,
  cookieSecure: false,
});
const request = new Request('http://localhost:3000/', { headers: { cookie: cookiePair } });
if (new RequestCookies(request.headers).get(cookieName)?.value === undefined) {
  throw new Error('the request does not carry the cookie');
}
const ctx = await client.getLogtoContext(request);
if (!ctx.isAuthenticated || ctx.claims?.sub !== JSON.parse(Buffer.from(ref.idToken.split('.')[1], 'base64url')).sub) {
  throw new Error(`getLogtoContext: not authenticated: ${JSON.stringify(ctx)}`);
}

for (let i = 0; i < warmup; i++) await client.getLogtoContext(request);
const perRound = [];
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await client.getLogtoContext(request);
  perRound.push(Number(process.hrtime.bigint() - t0) / iterations);
}
const sorted = [...perRound].sort((a, b) => a - b);
const nsPerOp = Math.round(sorted[Math.floor(sorted.length / 2)]);
const nsPerOpMin = Math.round(sorted[0]);
note(`getLogtoContext: ${rounds} rounds of ${iterations} after ${warmup} warm-up: ${perRound.map(Math.round).join(', ')} ns/op; median ${nsPerOp} ns/op = ${Math.round(1e9 / nsPerOp)} ops/s; fetch calls: ${fetchCalls.length}`);

console.log(
  JSON.stringify({
    cookieBytes,
    exceeds4096: cookieBytes > 4096,
    cookieBytesUnencoded,
    sessionDataBytes,
    nsPerOp,
    nsPerOpMin,
    opsPerSec: Math.round(1e9 / nsPerOp),
    allocs: null,
    iterations,
    rounds,
    fetchCalls: fetchCalls.length,
    package: `@logto/next@${version('@logto/next')}`,
    node: process.version,
  }),
);
