package logtotest

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// pkceValue is the RFC 7636 shape of code_challenge and code_verifier.
var pkceValue = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

var knownPrompts = []string{"none", "login", "consent", "select_account"}

// handleAuthorize serves GET and POST /oidc/auth. It validates like Logto,
// then either redirects an error to redirect_uri, renders it (unknown
// client, bad redirect_uri), or starts the automatic sign-in: 303 to the
// relative /oidc/auth/<uid>. With prompt=none and a live session it answers
// with the code directly.
func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request, params url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	state := params.Get("state")
	render := func(e *oidcError) {
		p.log.Debug("logtotest: authorization request rendered as error", "error", e.code, "description", e.description)
		b := e.body()
		if state != "" {
			b["state"] = state
		}
		b["iss"] = p.issuer
		writeJSON(w, e.status, b)
	}
	if e := rejectDupes(params, "resource"); e != nil {
		render(e)
		return
	}
	clientID := params.Get("client_id")
	if clientID == "" {
		render(missingParam("client_id"))
		return
	}
	p.mu.Lock()
	app, ok := p.appLocked(clientID)
	p.mu.Unlock()
	if !ok {
		render(errUnknownClient(clientID))
		return
	}
	redirectURI := params.Get("redirect_uri")
	switch {
	case redirectURI == "" && len(app.RedirectURIs) == 1:
		redirectURI = app.RedirectURIs[0]
	case redirectURI == "":
		render(missingParam("redirect_uri"))
		return
	case !contains(app.RedirectURIs, redirectURI):
		render(newError(http.StatusBadRequest, "invalid_redirect_uri",
			"redirect_uri did not match any of the client's registered redirect_uris"))
		return
	}
	mode := params.Get("response_mode")
	fail := func(e *oidcError) {
		p.log.Debug("logtotest: authorization request redirected as error", "error", e.code, "description", e.description)
		q := p.callbackParams("error", e.code, state)
		q.Set("error_description", e.description)
		p.respondAuth(w, redirectURI, mode, q)
	}
	switch mode {
	case "":
		mode = "query"
	case "query", "fragment", "form_post":
	default:
		mode = "query"
		fail(newError(http.StatusBadRequest, "unsupported_response_mode", "unsupported response_mode requested"))
		return
	}

	req, prompts, e := p.parseAuthRequest(app, params)
	if e != nil {
		fail(e)
		return
	}
	req.redirectURI, req.responseMode, req.state = redirectURI, mode, state

	p.mu.Lock()
	now := p.now()
	p.maybeGCLocked(now)
	sess := p.sessionLocked(r, now)
	if contains(prompts, "none") {
		if sess == nil {
			p.mu.Unlock()
			fail(newError(http.StatusBadRequest, "login_required", "End-User authentication is required"))
			return
		}
		if _, ok := p.userLocked(sess.userID); !ok {
			p.mu.Unlock()
			fail(newError(http.StatusBadRequest, "login_required", "End-User authentication is required"))
			return
		}
		req.userID, req.sessionID = sess.userID, sess.id
		code := p.issueCodeLocked(req, sess, now)
		p.mu.Unlock()
		p.respondAuth(w, redirectURI, mode, p.callbackParams("code", code, state))
		return
	}
	req.extra, req.prompts = extraParams(params), prompts
	if p.experience != nil && (sess == nil || contains(prompts, "login")) {
		loc := p.startInteractionLocked(w, req, now)
		p.mu.Unlock()
		setLogtoCookie(w, app.ID, params.Get("organization_id"), params.Get("ui_locales"))
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	if p.experience != nil {
		req.userID, req.sessionID = sess.userID, sess.id // single sign-on: the provider session's user
		req.expiresAt = now.Add(interactionTTL)
		uid := randomToken()
		p.interactions[uid] = req
		p.mu.Unlock()
		setLogtoCookie(w, app.ID, params.Get("organization_id"), params.Get("ui_locales"))
		w.Header().Set("Location", p.basePath+"/oidc/auth/"+uid)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	if chosen := r.Header.Get(SignInUserHeader); chosen != "" {
		if _, ok := p.userLocked(chosen); !ok {
			p.mu.Unlock()
			fail(newError(http.StatusBadRequest, "access_denied", "unknown user "+chosen))
			return
		}
	}
	userID := p.chooseUserLocked(r.Header.Get(SignInUserHeader), params.Get("login_hint"))
	if userID == "" {
		p.mu.Unlock()
		fail(newError(http.StatusBadRequest, "access_denied", "no user to sign in"))
		return
	}
	if sess == nil || sess.userID != userID || contains(prompts, "login") {
		sess = p.newSessionLocked(userID, now)
	}
	req.userID, req.sessionID = userID, sess.id
	req.expiresAt = now.Add(interactionTTL)
	uid := randomToken()
	p.interactions[uid] = req
	p.mu.Unlock()

	setLogtoCookie(w, app.ID, params.Get("organization_id"), params.Get("ui_locales"))
	p.setSessionCookie(w, sess)
	w.Header().Set("Location", p.basePath+"/oidc/auth/"+uid)
	w.WriteHeader(http.StatusSeeOther)
}

// parseAuthRequest checks the redirectable parts of an authorization
// request and resolves granted scopes and resources.
func (p *Provider) parseAuthRequest(app App, params url.Values) (*authRequest, []string, *oidcError) {
	switch params.Get("response_type") {
	case "":
		return nil, nil, missingParam("response_type")
	case "code":
	case "code id_token", "id_token", "none":
		return nil, nil, newError(http.StatusBadRequest, "unauthorized_client", "requested response_type is not allowed for this client")
	default:
		return nil, nil, newError(http.StatusBadRequest, "unsupported_response_type", "unsupported response_type requested")
	}
	scope := params.Get("scope")
	if scope == "" {
		return nil, nil, missingParam("scope")
	}
	var requested []string
	for _, s := range strings.Fields(scope) {
		if !contains(requested, s) {
			requested = append(requested, s)
		}
	}
	if !contains(requested, scopeOpenID) {
		return nil, nil, invalidRequest("openid scope must be requested for this request")
	}
	prompts := strings.Fields(params.Get("prompt"))
	for _, pr := range prompts {
		if !contains(knownPrompts, pr) {
			return nil, nil, invalidRequest("unsupported prompt value requested")
		}
	}
	if contains(prompts, "none") && len(prompts) > 1 {
		return nil, nil, invalidRequest("prompt none must only be used alone")
	}

	challenge, method := params.Get("code_challenge"), params.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return nil, nil, invalidRequest("code_challenge must be provided with code_challenge_method")
	case challenge == "" && app.Public:
		return nil, nil, invalidRequest("Authorization Server policy requires PKCE to be used for this request")
	case challenge != "" && method == "":
		return nil, nil, invalidRequest("code_challenge_method must be provided")
	case challenge != "" && method != "S256":
		return nil, nil, invalidRequest("not supported value of code_challenge_method")
	case challenge != "" && !pkceValue.MatchString(challenge):
		return nil, nil, invalidRequest("code_challenge must be a string of 43 to 128 unreserved characters")
	}

	var indicators []string
	for _, v := range params["resource"] {
		for _, ind := range strings.Split(v, ",") {
			if ind = strings.TrimSpace(ind); !contains(indicators, ind) {
				indicators = append(indicators, ind)
			}
		}
	}
	req := &authRequest{
		clientID:     app.ID,
		nonce:        params.Get("nonce"),
		challenge:    challenge,
		requested:    requested,
		withAuthTime: params.Get("max_age") != "" || contains(prompts, "login"),
	}
	p.mu.Lock()
	for _, ind := range indicators {
		u, err := url.Parse(ind)
		switch {
		case ind == "" || err != nil || u.Scheme == "":
			p.mu.Unlock()
			return nil, nil, newError(http.StatusBadRequest, "invalid_target", "resource indicator must be an absolute URI")
		case u.Fragment != "" || strings.Contains(ind, "#"):
			p.mu.Unlock()
			return nil, nil, newError(http.StatusBadRequest, "invalid_target", "resource indicator must not contain a fragment component")
		}
		if _, ok := p.resources[ind]; !ok && ind != ReservedOrganizationResource {
			p.mu.Unlock()
			return nil, nil, errInvalidTarget()
		}
		req.indicators = append(req.indicators, ind)
	}
	p.mu.Unlock()

	for _, s := range requested {
		if !contains(supportedScopes, s) {
			continue // resource scopes, or unknown: dropped silently
		}
		if s == scopeOfflineAccess && !contains(prompts, "consent") {
			continue // oidc-provider check_scope: needs prompt=consent
		}
		req.scopes = append(req.scopes, s)
	}
	return req, prompts, nil
}

// SignInUserHeader names the request header with which a test browser
// chooses who the automatic sign-in signs in: an authorization request
// carrying it with a user ID signs that user in (an unknown ID is
// access_denied), before any login_hint or [Provider.SetSignInUser] choice.
// [Browser.SignIn] sends it for [AsUser]. It has no effect while an
// [Experience] is installed: the experience decides who signs in.
const SignInUserHeader = "Logtotest-Sign-In-User"

// chooseUserLocked picks the user to sign in: the browser's choice
// (SignInUserHeader), then a login_hint match, then the SetSignInUser
// choice, then the first user.
func (p *Provider) chooseUserLocked(chosen, hint string) string {
	if _, ok := p.userLocked(chosen); ok {
		return chosen
	}
	for _, u := range p.users {
		if u.matchesHint(hint) {
			return u.ID
		}
	}
	if _, ok := p.userLocked(p.signInUser); ok {
		return p.signInUser
	}
	if len(p.users) > 0 {
		return p.users[0].ID
	}
	return ""
}

// handleResume serves GET /oidc/auth/<uid>: it finishes the automatic
// sign-in and answers 303 to redirect_uri with code, state and iss.
func (p *Provider) handleResume(w http.ResponseWriter, r *http.Request, uid string) {
	w.Header().Set("Cache-Control", "no-store")
	p.mu.Lock()
	now := p.now()
	req := p.interactions[uid]
	if req != nil && req.userID == "" {
		// Interactive sign-in not finished: back to the experience.
		loc := p.experience.Location(req.interaction(uid))
		p.mu.Unlock()
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	delete(p.interactions, uid)
	if req == nil || now.After(req.expiresAt) {
		p.mu.Unlock()
		e := invalidRequest("interaction session not found")
		e.logtoCode = "session.not_found"
		writeError(w, e)
		return
	}
	if respond := p.resumeDeviceLocked(uid, req, now); respond != nil {
		p.mu.Unlock()
		respond(w)
		return
	}
	if _, ok := p.userLocked(req.userID); !ok {
		p.mu.Unlock()
		q := p.callbackParams("error", "access_denied", req.state)
		q.Set("error_description", "user not found")
		p.respondAuth(w, req.redirectURI, req.responseMode, q)
		return
	}
	sess := p.sessions[req.sessionID]
	if sess == nil || now.After(sess.expiresAt) {
		sess = p.newSessionLocked(req.userID, now)
	}
	code := p.issueCodeLocked(req, sess, now)
	p.mu.Unlock()

	p.setSessionCookie(w, sess)
	p.respondAuth(w, req.redirectURI, req.responseMode, p.callbackParams("code", code, req.state))
}

// issueCodeLocked records the grant for req in sess, resolving the
// resource scopes the user holds, and returns a new authorization code
// (valid 60 s).
func (p *Provider) issueCodeLocked(req *authRequest, sess *session, now time.Time) string {
	user, _ := p.userLocked(sess.userID)
	g := &grant{
		id: randomToken(), clientID: req.clientID, userID: sess.userID, sessionID: sess.id,
		scopes:    slices.Clone(req.scopes),
		resources: p.grantResourcesLocked(user, req.requested, req.indicators),
		nonce:     req.nonce,
		authTime:  sess.authTime, withAuthTime: req.withAuthTime, expiresAt: now.Add(grantTTL),
	}
	p.grants[g.id] = g
	sess.grantIDs = append(sess.grantIDs, g.id)
	code := randomToken()
	p.codes[code] = &authCode{
		grantID: g.id, clientID: req.clientID, redirectURI: req.redirectURI,
		challenge: req.challenge, expiresAt: now.Add(codeTTL),
	}
	return code
}

// callbackParams returns {key: value, state (when not empty), iss}.
func (p *Provider) callbackParams(key, value, state string) url.Values {
	q := url.Values{key: {value}, "iss": {p.issuer}}
	if state != "" {
		q.Set("state", state)
	}
	return q
}

// authParamOrder is the order of the callback parameters: code, state, iss
// on success, error, error_description, state, iss on errors.
var authParamOrder = []string{"code", "error", "error_description", "error_uri", "state", "iss"}

// encodeOrdered encodes q with authParamOrder first, then the other keys
// sorted; repeated values are all kept.
func encodeOrdered(q url.Values) string {
	keys := make([]string, 0, len(q))
	for _, k := range authParamOrder {
		if _, ok := q[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range sortedKeys(q) {
		if !contains(authParamOrder, k) {
			keys = append(keys, k)
		}
	}
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

var formPostPage = template.Must(template.New("form_post").Parse(`<!DOCTYPE html>
<html>
<head>
<title>Submitting Callback</title>
</head>
<body onload="javascript:document.forms[0].submit()">
<form method="post" action="{{.Action}}">{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}"/>{{end}}</form>
</body>
</html>
`))

// respondAuth delivers the authorization response q to redirectURI after
// the AuthResponse hook: 303 with query or fragment, or a form_post page.
func (p *Provider) respondAuth(w http.ResponseWriter, redirectURI, mode string, q url.Values) {
	if h := p.hooks().AuthResponse; h != nil {
		h(q)
	}
	w.Header().Set("Cache-Control", "no-store")
	switch mode {
	case "form_post":
		type field struct{ Name, Value string }
		data := struct {
			Action string
			Fields []field
		}{Action: redirectURI}
		for _, pair := range strings.Split(encodeOrdered(q), "&") {
			k, v, _ := strings.Cut(pair, "=")
			k, _ = url.QueryUnescape(k)
			v, _ = url.QueryUnescape(v)
			if k != "" {
				data.Fields = append(data.Fields, field{k, v})
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_ = formPostPage.Execute(w, data)
	case "fragment":
		w.Header().Set("Location", redirectURI+"#"+encodeOrdered(q))
		w.WriteHeader(http.StatusSeeOther)
	default:
		sep := "?"
		if strings.Contains(redirectURI, "?") {
			sep = "&"
		}
		w.Header().Set("Location", redirectURI+sep+encodeOrdered(q))
		w.WriteHeader(http.StatusSeeOther)
	}
}
