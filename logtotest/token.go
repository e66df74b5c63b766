package logtotest

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// handleToken serves POST /oidc/token.
func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request, form url.Values) {
	status, body := http.StatusOK, map[string]any(nil)
	resp, e := p.tokenGrant(r, form)
	if e != nil {
		p.log.Debug("logtotest: token request rejected", "error", e.code, "description", e.description)
		status, body = e.status, e.body()
	} else {
		body = resp
	}
	hooks := p.hooks()
	if hooks.TokenResponse != nil {
		hooks.TokenResponse(&status, body)
	}
	if hooks.TokenResponseFor != nil {
		hooks.TokenResponseFor(form.Get("grant_type"), &status, body)
	}
	if hooks.RawTokenResponse != nil && hooks.RawTokenResponse(w) {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	p.setClientAuthChallenge(w, status, body)
	writeJSON(w, status, body)
}

func (p *Provider) tokenGrant(r *http.Request, form url.Values) (map[string]any, *oidcError) {
	if e := rejectDupes(form, "resource"); e != nil {
		return nil, e
	}
	app, e := p.authenticateClient(r, form)
	if e != nil {
		return nil, e
	}
	switch form.Get("grant_type") {
	case "":
		return nil, missingParam("grant_type")
	case "authorization_code":
		if app.DeviceFlow { // device_code and refresh_token only
			return nil, invalidRequest("requested grant type is not allowed for this client")
		}
		return p.codeGrant(app, form)
	case "refresh_token":
		return p.refreshGrant(app, form)
	case "client_credentials":
		return p.clientCredentialsGrant(app, form)
	case deviceGrantType:
		return p.deviceCodeGrant(app, form)
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		return nil, invalidRequest("requested grant type is not allowed for this client")
	default:
		return nil, newError(http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type requested")
	}
}

func errSingleResource() *oidcError {
	return newError(http.StatusBadRequest, "invalid_target",
		"only a single resource indicator value must be requested/resolved during Access Token Request")
}

// codeGrant exchanges an authorization code (one-time, 60 s).
func (p *Provider) codeGrant(app App, form url.Values) (map[string]any, *oidcError) {
	code := form.Get("code")
	if code == "" {
		return nil, missingParam("code")
	}
	redirectURI := form.Get("redirect_uri")
	if redirectURI == "" {
		if len(app.RedirectURIs) != 1 {
			return nil, missingParam("redirect_uri")
		}
		redirectURI = app.RedirectURIs[0]
	}
	if len(form["resource"]) > 1 {
		return nil, errSingleResource()
	}
	resource := form.Get("resource")
	verifier := form.Get("code_verifier")

	p.mu.Lock()
	now := p.now()
	p.maybeGCLocked(now)
	is, e := func() (*issue, *oidcError) {
		c := p.codes[code]
		if c == nil || c.clientID != app.ID || now.After(c.expiresAt) {
			return nil, errInvalidGrant()
		}
		g := p.liveGrantLocked(c.grantID, now)
		if g == nil || !pkceMatches(verifier, c.challenge) || c.redirectURI != redirectURI {
			return nil, errInvalidGrant()
		}
		if c.consumed {
			p.revokeGrantLocked(c.grantID)
			return nil, errInvalidGrant()
		}
		c.consumed = true
		user, ok := p.userLocked(g.userID)
		if !ok {
			return nil, errInvalidGrant()
		}
		return p.redeemGrantLocked(app, user, g, resource, now)
	}()
	key := p.keys[0]
	p.mu.Unlock()
	if e != nil {
		return nil, e
	}
	return p.mint(is, key, now)
}

// redeemGrantLocked is what redeeming a grant issues (an authorization code
// or a device code): an access token (a JWT for resource, else opaque for
// userinfo), an ID token with openid, a refresh token with offline_access.
func (p *Provider) redeemGrantLocked(app App, user User, g *grant, resource string, now time.Time) (*issue, *oidcError) {
	is := &issue{app: app, user: user, grant: *g, scope: g.scopes}
	if resource != "" {
		scopes, ok := g.resources[resource]
		if !ok {
			return nil, errInvalidTarget()
		}
		is.jwtAudience, is.jwtScopes, is.scope = resource, scopes, scopes
	} else {
		is.opaque = p.newAccessTokenLocked(g, g.scopes, now)
	}
	if contains(g.scopes, scopeOpenID) {
		is.idScopes = g.scopes
	}
	if g.offline() {
		is.refresh = randomToken()
		p.refreshTokens[is.refresh] = &refreshToken{
			grantID: g.id, clientID: app.ID, issuedAt: now, expiresAt: now.Add(refreshTokenTTL),
		}
	}
	return is, nil
}

// pkceMatches checks code_verifier against a stored S256 challenge. With
// no challenge stored, no verifier may be sent.
func pkceMatches(verifier, challenge string) bool {
	if challenge == "" {
		return verifier == ""
	}
	if !pkceValue.MatchString(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(b64.EncodeToString(sum[:])), []byte(challenge)) == 1
}

func (p *Provider) newAccessTokenLocked(g *grant, scopes []string, now time.Time) string {
	tok := randomToken()
	p.accessTokens[tok] = &accessToken{
		grantID: g.id, clientID: g.clientID, userID: g.userID,
		scopes: append([]string(nil), scopes...), expiresAt: now.Add(accessTokenTTL),
	}
	return tok
}

// issue is what a token response carries, decided under the lock and
// signed outside it.
type issue struct {
	app   App
	user  User
	grant grant
	// idScopes are the OIDC scopes of the ID token; nil means no ID token.
	idScopes []string
	// opaque is the opaque access token, or "" for a JWT access token for
	// jwtAudience with jwtScopes (and organization_id when jwtOrg is set).
	opaque      string
	jwtAudience string
	jwtScopes   []string
	jwtOrg      string
	refresh     string
	scope       []string
}

// mint signs the ID token and JWT access token of is and builds the token
// response: access_token, expires_in, id_token, refresh_token, scope,
// token_type.
func (p *Provider) mint(is *issue, key *signingKey, now time.Time) (map[string]any, *oidcError) {
	serverError := func() (map[string]any, *oidcError) {
		return nil, newError(http.StatusInternalServerError, "server_error", "oops! something went wrong")
	}
	at := is.opaque
	if at == "" {
		claims := map[string]any{
			"jti": randomToken(), "sub": is.user.ID, "iat": now.Unix(),
			"exp": now.Add(accessTokenTTL).Unix(), "client_id": is.app.ID,
			"iss": p.issuer, "aud": is.jwtAudience,
		}
		if len(is.jwtScopes) > 0 {
			claims["scope"] = strings.Join(is.jwtScopes, " ")
		}
		if is.jwtOrg != "" {
			claims["organization_id"] = is.jwtOrg
		}
		var err error
		at, err = signRaw(key, map[string]any{"alg": "ES384", "kid": key.kid, "typ": "at+jwt"}, claims)
		if err != nil {
			return serverError()
		}
	}
	body := map[string]any{
		"access_token": at,
		"expires_in":   int(accessTokenTTL / time.Second),
		"scope":        strings.Join(is.scope, " "),
		"token_type":   "Bearer",
	}
	if is.idScopes != nil {
		idt, err := p.idToken(key, is, now, at)
		if err != nil {
			return serverError()
		}
		body["id_token"] = idt
	}
	if is.refresh != "" {
		body["refresh_token"] = is.refresh
	}
	return body, nil
}

// idToken signs an ID token: header {alg, kid} (Logto sends no typ),
// claims iss, sub, aud, exp, iat, nonce (if sent at authorization),
// auth_time (max_age or prompt=login), the scope claims and, with
// Options.AccessTokenHash, at_hash.
func (p *Provider) idToken(key *signingKey, is *issue, now time.Time, accessToken string) (string, error) {
	claims := userClaims(is.user, is.idScopes, false, nil)
	if p.atHash {
		sum := sha512.Sum384([]byte(accessToken)) // ES384: SHA-384, left half
		claims["at_hash"] = b64.EncodeToString(sum[:len(sum)/2])
	}
	claims["iss"] = p.issuer
	claims["aud"] = is.app.ID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(idTokenTTL).Unix()
	if is.grant.nonce != "" {
		claims["nonce"] = is.grant.nonce
	}
	if is.grant.withAuthTime {
		claims["auth_time"] = is.grant.authTime.Unix()
	}
	header := map[string]any{"alg": "ES384", "kid": key.kid}
	hooks := p.hooks()
	if hooks.IDTokenHeader != nil {
		hooks.IDTokenHeader(header)
	}
	if hooks.IDTokenClaims != nil {
		hooks.IDTokenClaims(claims)
	}
	return signRaw(key, header, claims)
}
