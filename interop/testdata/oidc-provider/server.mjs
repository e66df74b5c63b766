// An oidc-provider (panva/node-oidc-provider 9.x, the engine Logto is built
// on) configured like Logto (packages/core/src/oidc/init.ts), with a
// programmatic sign-in instead of Logto's experience app. It serves:
//
//   /oidc/*               the provider; issuer http://127.0.0.1:<port>/oidc
//   GET /interaction/:uid signs the fixed account in and grants consent, or,
//                         for login_hint=deny, answers access_denied (the
//                         user cancelled)
//
// with, besides the confidential client, the public client interop-device-app:
// a Logto "Native" application created with the device flow on, driven
// through oidc-provider's own user code pages (/oidc/device: enter or
// confirm the code, or abort).
//
// and, for the tests to drive and observe it:
//
//   POST /__test/rotate-keys   rotates the signing key as Logto does: a new
//                              ES384 key is current from the very next token
//                              on, the previous current key stays published
//                              after it (two keys, new first). Answers
//                              {"kids": [new, previous]}.
//   POST /__test/token-delay?ms=N
//                              /oidc/token waits N ms before it handles a
//                              request (0: no delay), so that requests overlap
//   GET /__test/stats          {"requests": {path: n}, "token": {grant_type: n},
//                              "tokenErrors": {"grant_type error": n}}: every
//                              request by path, and /oidc/token requests by
//                              grant_type and by error answered
//
// Environment:
//   PORT                      port on 127.0.0.1 (0 or unset: a random one)
//   CLIENT_ID, CLIENT_SECRET  the confidential (client_secret_basic) client
//   REDIRECT_URI              the app's callback URL
//   POST_LOGOUT_REDIRECT_URI  the app's post sign-out URL
//   ROTATE_REFRESH_TOKEN      "always": rotate on every use, as Logto does for
//                             public clients (and for confidential ones once
//                             70 % of the TTL has passed, the default here)
//   M2M_CLIENT_ID, M2M_CLIENT_SECRET
//                             optional: a Logto "Machine-to-machine" client
//                             (client_credentials only, client_secret_basic).
//                             Its tokens for the API resource carry the
//                             requested scopes among M2M_SCOPES, the scopes
//                             its role would grant in Logto
//   DEVICE_CODE_TTL           lifetime of device codes in seconds (Logto: 600)
//
// When listening it prints one line "READY <port>" on stdout.
//
// Only for tests: every secret here is generated at start or comes from the
// test, and everything lives in memory.

import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const ACCOUNT_ID = 'interop-user';
const RESOURCE = 'https://api.interop.test';
const RESOURCE_SCOPES = ['read:interop'];
// What the machine-to-machine client's role grants for RESOURCE (Logto's
// getResourceServerInfo for an application: the scopes of its roles).
const M2M_SCOPES = ['read:interop'];

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`server.mjs: environment variable ${name} is required`);
    process.exit(2);
  }
  return v;
};

const client = {
  client_id: env('CLIENT_ID'),
  client_secret: env('CLIENT_SECRET'),
  redirect_uris: [env('REDIRECT_URI')],
  post_logout_redirect_uris: [env('POST_LOGOUT_REDIRECT_URI')],
  // A Logto "Traditional web" application (getConstantClientMetadata).
  application_type: 'web',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

// A Logto "Machine-to-machine" application (getConstantClientMetadata):
// client_credentials only, no redirect URIs, client_secret_basic.
const m2mClient = process.env.M2M_CLIENT_ID ? {
  client_id: process.env.M2M_CLIENT_ID,
  client_secret: env('M2M_CLIENT_SECRET'),
  application_type: 'web',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
} : undefined;

// A Logto "Native" application created with the device flow on
// (getConstantClientMetadata with isDeviceFlow): a public client allowed only
// the device_code and refresh_token grants.
const deviceClient = {
  client_id: 'interop-device-app',
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
  response_types: [],
  redirect_uris: [],
};

// Logto's default signing key: EC P-384 (ES384), kid = RFC 7638 thumbprint.
function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = privateKey.export({ format: 'jwk' });
  const { crv, kty, x, y } = jwk;
  const kid = crypto.createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
  return { ...jwk, kid, alg: 'ES384', use: 'sig' };
}

// Logto's claims per scope (packages/toolkit/core-kit/src/openid.ts).
const claims = {
  openid: ['sub'],
  profile: [
    'name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile',
    'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at', 'username', 'created_at',
  ],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
};
const oidcScopes = new Set(['openid', 'offline_access', ...Object.keys(claims)]);

// The storage every Provider instance shares (see rotate): oidc-provider's
// default MemoryAdapter keeps a store per instance, so grants, sessions,
// interactions and tokens would not survive a key rotation. Same semantics:
// entries expire, and revokeByGrantId drops every token of a grant (as
// oidc-provider does on a reused authorization code or refresh token).
const storage = new Map(); // "Model:id" -> { payload, expiresAt }
const grantMembers = new Map(); // grantId -> Set of "Model:id"
const sessionUids = new Map(); // uid -> "Session:id"
const userCodes = new Map(); // userCode -> "Model:id"
const grantable = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PreAuthorizedCode',
]);

function load(key) {
  const entry = storage.get(key);
  if (!entry) return undefined;
  // Logto's adapter returns expired instances too (oidc-provider checks
  // expiry itself), so an expired device code answers expired_token rather
  // than invalid_grant: keep device codes past their expiry.
  if (entry.expiresAt <= Date.now() && !key.startsWith('DeviceCode:')) {
    storage.delete(key);
    return undefined;
  }
  return entry.payload;
}

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    storage.set(key, { payload, expiresAt });
    if (this.model === 'Session') sessionUids.set(payload.uid, key);
    if (payload.userCode) userCodes.set(payload.userCode, key);
    if (grantable.has(this.model) && payload.grantId) {
      if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
      grantMembers.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    return load(this.key(id));
  }

  async findByUid(uid) {
    const key = sessionUids.get(uid);
    return key && load(key);
  }

  async findByUserCode(userCode) {
    const key = userCodes.get(userCode);
    return key && load(key);
  }

  async consume(id) {
    const payload = load(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    storage.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) storage.delete(key);
    grantMembers.delete(grantId);
  }
}

// Published signing keys, current first.
let signingKeys = [signingKey()];
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

function configuration() {
  return {
    adapter: SharedMemoryAdapter,
    // Copies: a Provider may keep and alter what it is given.
    clients: [client, m2mClient, deviceClient].filter(Boolean).map((c) => structuredClone(c)),
    jwks: { keys: signingKeys.map((k) => ({ ...k })) },
    cookies: { keys: cookieKeys },
    claims,
    scopes: [...oidcScopes],
    conformIdTokenClaims: false,
    clientDefaults: {
      id_token_signed_response_alg: 'ES384',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES384'],
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      userinfo: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      // Logto enables it with oidc-provider's pages replaced by its own
      // (packages/core/src/oidc/device-flow.ts); the defaults serve here.
      deviceFlow: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // No default API resource in this tenant.
        defaultResource: (ctx, _client, oneOf) => oneOf,
        // Never use a resource granted at authorization implicitly: the code
        // exchange without resource yields an opaque userinfo token.
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, indicator, c) => {
          if (indicator !== RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            // A machine-to-machine client gets what its role grants, as in
            // Logto; users what the resource defines (the grant narrows it).
            scope: (m2mClient && c?.clientId === m2mClient.client_id ? M2M_SCOPES : RESOURCE_SCOPES).join(' '),
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES384' } }, // header typ "at+jwt"
          };
        },
      },
    },
    pkce: { required: () => true }, // v9 accepts S256 only
    ...(process.env.ROTATE_REFRESH_TOKEN === 'always' ? { rotateRefreshToken: () => true } : {}),
    issueRefreshToken: async (ctx, c, code) => c.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Interaction: 3600,
      Grant: 180 * 24 * 3600,
      DeviceCode: Number(process.env.DEVICE_CODE_TTL || 600),
    },
    interactions: {
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    findAccount: async (ctx, sub) => {
      if (sub !== ACCOUNT_ID) {
        return undefined;
      }
      return {
        accountId: ACCOUNT_ID,
        claims: async () => ({
          sub: ACCOUNT_ID,
          name: 'Interop User',
          email: 'interop-user@example.test',
          email_verified: true,
        }),
      };
    },
  };
}

function asList(v) {
  if (v === undefined || v === null || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

// The programmatic "experience": sign the fixed account in and consent to
// what was asked (Logto auto-consents first-party apps).
async function interaction(provider, uid, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    throw new Error('interaction uid mismatch');
  }
  const { params } = details;
  if (params.login_hint === 'deny') {
    await provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'the user cancelled the sign-in',
    }, { mergeWithLastSubmission: false });
    return;
  }
  const requested = (params.scope ?? '').split(' ').filter(Boolean);
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: ACCOUNT_ID, clientId: params.client_id });
  // offline_access survives in params.scope only with prompt=consent.
  grant.addOIDCScope(requested.filter((s) => oidcScopes.has(s)).join(' '));
  for (const resource of asList(params.resource)) {
    if (resource === RESOURCE) {
      grant.addResourceScope(resource, requested.filter((s) => RESOURCE_SCOPES.includes(s)).join(' '));
    }
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId: ACCOUNT_ID },
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

// Per-request counters for /__test/stats.
const stats = { requests: {}, token: {}, tokenErrors: {} };
const count = (map, key) => { map[key] = (map[key] ?? 0) + 1; };
let tokenDelayMs = 0;

// The current Provider. Its key set is fixed at construction, so a rotation
// builds a new one over the same storage, clients and cookie keys and swaps
// it in: requests already in flight finish on the old one.
let provider;
let handle;

function build(issuer) {
  const p = new Provider(issuer, configuration());
  p.on('server_error', (ctx, err) => console.error('server_error:', err));
  p.use(async (ctx, next) => {
    if (ctx.path !== '/token') {
      await next();
      return;
    }
    if (tokenDelayMs > 0) await new Promise((resolve) => { setTimeout(resolve, tokenDelayMs); });
    try {
      await next();
    } finally {
      const grantType = String(ctx.oidc?.params?.grant_type ?? 'unknown');
      count(stats.token, grantType);
      if (ctx.status >= 400) count(stats.tokenErrors, `${grantType} ${ctx.body?.error ?? ctx.status}`);
    }
  });
  provider = p;
  handle = p.callback();
}

function json(res, status, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(`${JSON.stringify(body)}\n`);
}

// Test administration; nothing here is part of Logto.
function admin(pathname, req, res, issuer) {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (pathname === '/__test/rotate-keys' && req.method === 'POST') {
    signingKeys = [signingKey(), signingKeys[0]];
    build(issuer);
    json(res, 200, { kids: signingKeys.map((k) => k.kid) });
    return true;
  }
  if (pathname === '/__test/token-delay' && req.method === 'POST') {
    const ms = Number(url.searchParams.get('ms'));
    if (!Number.isInteger(ms) || ms < 0 || ms > 60000) {
      json(res, 400, { error: 'ms must be an integer in [0, 60000]' });
      return true;
    }
    tokenDelayMs = ms;
    json(res, 200, { ms });
    return true;
  }
  if (pathname === '/__test/stats' && req.method === 'GET') {
    json(res, 200, stats);
    return true;
  }
  return false;
}

let issuer;

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
  if (pathname.startsWith('/__test/')) {
    if (!admin(pathname, req, res, issuer)) json(res, 404, { error: 'not found' });
    return;
  }
  count(stats.requests, pathname);
  if (pathname === '/oidc' || pathname.startsWith('/oidc/')) {
    // Mount under /oidc: oidc-provider derives its mount path from
    // originalUrl minus url (oidc_context.js urlFor).
    req.originalUrl = req.url;
    let rest = req.url.slice('/oidc'.length);
    if (!rest.startsWith('/')) rest = `/${rest}`;
    req.url = rest;
    handle(req, res);
    return;
  }
  const m = /^\/interaction\/([^/]+)$/.exec(pathname);
  if (m && req.method === 'GET') {
    interaction(provider, m[1], req, res).catch((err) => {
      console.error('interaction failed:', err);
      if (!res.headersSent) {
        res.statusCode = 400;
        res.setHeader('Content-Type', 'text/plain');
      }
      res.end(`interaction failed: ${err.message}\n`);
    });
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
});

server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  const { port } = server.address();
  issuer = `http://127.0.0.1:${port}/oidc`;
  build(issuer);
  console.log(`READY ${port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
