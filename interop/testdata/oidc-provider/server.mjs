// An oidc-provider (panva/node-oidc-provider 9.x, the engine Logto is built
// on) configured like Logto (packages/core/src/oidc/init.ts), with a
// programmatic sign-in instead of Logto's experience app. It serves:
//
//   /oidc/*               the provider; issuer http://127.0.0.1:<port>/oidc
//   GET /interaction/:uid signs the fixed account in and grants consent, or,
//                         for login_hint=deny, answers access_denied (the
//                         user cancelled)
//
// Environment:
//   PORT                      port on 127.0.0.1 (0 or unset: a random one)
//   CLIENT_ID, CLIENT_SECRET  the confidential (client_secret_basic) client
//   REDIRECT_URI              the app's callback URL
//   POST_LOGOUT_REDIRECT_URI  the app's post sign-out URL
//   ROTATE_REFRESH_TOKEN      "always": rotate on every use, as Logto does for
//                             public clients (and for confidential ones once
//                             70 % of the TTL has passed, the default here)
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

function configuration() {
  return {
    clients: [client],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
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
      resourceIndicators: {
        enabled: true,
        // No default API resource in this tenant.
        defaultResource: (ctx, _client, oneOf) => oneOf,
        // Never use a resource granted at authorization implicitly: the code
        // exchange without resource yields an opaque userinfo token.
        useGrantedResource: () => false,
        getResourceServerInfo: (ctx, indicator) => {
          if (indicator !== RESOURCE) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: RESOURCE_SCOPES.join(' '),
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
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
      Interaction: 3600,
      Grant: 180 * 24 * 3600,
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

let provider;
let handle;

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://127.0.0.1');
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
  provider = new Provider(`http://127.0.0.1:${port}/oidc`, configuration());
  provider.on('server_error', (ctx, err) => console.error('server_error:', err));
  handle = provider.callback();
  console.log(`READY ${port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
