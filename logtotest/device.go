package logtotest

import (
	"crypto/rand"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The device authorization grant (RFC 8628), as Logto 1.42 serves it for a
// Native application created with the device flow on (App.DeviceFlow):
//
//	POST /oidc/device/auth  device authorization: client_id, scope,
//	                        resource; answers device_code, user_code
//	                        (XXXX-XXXX of oidc-provider's base-20
//	                        alphabet), verification_uri (<issuer>/device),
//	                        verification_uri_complete, expires_in 600 and,
//	                        only with SetDevicePollInterval, interval
//	GET  /oidc/device       the user code page: without user_code a form
//	                        to enter it; with a valid one the code is
//	                        approved for the sign-in user (SetSignInUser,
//	                        else the first user), or, with an Experience
//	                        and no provider session, the experience signs
//	                        the user in first (303 to its first screen)
//	POST /oidc/device       user_code and abort=yes: the user denies
//
// and the grant type urn:ietf:params:oauth:grant-type:device_code at the
// token endpoint, with oidc-provider's answers: 400 authorization_pending,
// slow_down (only with SetDevicePollInterval: Logto never sends it),
// access_denied once denied, expired_token after 10 minutes, invalid_grant
// for an unknown, foreign or already redeemed code (a second redemption
// revokes the grant). An approved code yields an opaque access token (a
// JWT with resource), an ID token for openid and a refresh token for
// offline_access, which a device request keeps without prompt=consent.

const (
	// DefaultDeviceAppID is the ID of [DefaultDeviceApp]: 21 characters of
	// [0-9a-z], like Logto's.
	DefaultDeviceAppID = "logtotestdeviceapp001"

	deviceCodeTTL      = 600 * time.Second
	deviceCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ" // oidc-provider's base-20
	deviceGrantType    = "urn:ietf:params:oauth:grant-type:device_code"
	deviceSlowDownStep = 5 * time.Second
)

// ErrDeviceCodeNotFound: no pending device authorization has that user
// code (unknown, expired, or already approved or denied).
var ErrDeviceCodeNotFound = errors.New("logtotest: device user code not found")

// DefaultDeviceApp returns a Native application with the device flow on,
// ID [DefaultDeviceAppID].
func DefaultDeviceApp() App {
	return App{ID: DefaultDeviceAppID, Name: "logtotest device app", DeviceFlow: true}
}

// deviceState is the provider's device flow state; guarded by Provider.mu.
type deviceState struct {
	codes    map[string]*deviceCode // by device_code
	byUser   map[string]string      // normalized user code -> device_code
	byUID    map[string]string      // experience interaction uid -> device_code
	interval time.Duration          // 0: no interval sent, no slow_down (Logto)
	autoUser string                 // approves new codes at once when set
}

type deviceCode struct {
	clientID   string
	userCode   string // normalized: upper case, no dash
	requested  []string
	scopes     []string // granted OIDC scopes
	indicators []string
	nonce      string
	expiresAt  time.Time
	interval   time.Duration // grows by 5 s with each slow_down
	lastPoll   time.Time
	userID     string // set when approved, with sessionID and authTime
	sessionID  string
	authTime   time.Time
	grantID    string // set when redeemed
	denied     bool
	consumed   bool
}

func (dc *deviceCode) pending() bool { return dc.userID == "" && !dc.denied }

func (p *Provider) devicesLocked() *deviceState {
	if p.device.codes == nil {
		p.device.codes = map[string]*deviceCode{}
		p.device.byUser = map[string]string{}
		p.device.byUID = map[string]string{}
	}
	now := p.now()
	for k, dc := range p.device.codes { // few: swept on every use
		if now.Sub(dc.expiresAt) > deviceCodeTTL {
			delete(p.device.codes, k)
			delete(p.device.byUser, dc.userCode)
		}
	}
	capEntries(p.device.codes)
	capEntries(p.device.byUID)
	return &p.device
}

// SetDevicePollInterval makes the device flow enforce a polling interval
// (RFC 8628 section 3.5): the device authorization response carries it as
// interval, and a poll sooner than the current interval after the previous
// one answers slow_down and adds 5 seconds to that code's interval. 0 (the
// default) sends no interval and never slow_down, like Logto 1.42.
func (p *Provider) SetDevicePollInterval(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.devicesLocked().interval = d
}

// SetDeviceAutoApprove approves every new device authorization for userID
// as soon as it is made, as if the user had entered the code at once (for
// examples and tests that need no pending phase); "" turns it off.
func (p *Provider) SetDeviceAutoApprove(userID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.devicesLocked().autoUser = userID
}

// ApproveDeviceCode approves the pending device authorization with
// userCode (dashes and case do not matter) for userID, as if the user had
// entered the code on the device page and signed in.
func (p *Provider) ApproveDeviceCode(userCode, userID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	dc := p.pendingDeviceCodeLocked(userCode)
	if dc == nil {
		return ErrDeviceCodeNotFound
	}
	if _, ok := p.userLocked(userID); !ok {
		return errors.New("logtotest: unknown user " + userID)
	}
	p.approveDeviceLocked(dc, userID, "", p.now())
	return nil
}

// DenyDeviceCode denies the pending device authorization with userCode:
// the next poll answers access_denied.
func (p *Provider) DenyDeviceCode(userCode string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	dc := p.pendingDeviceCodeLocked(userCode)
	if dc == nil {
		return ErrDeviceCodeNotFound
	}
	dc.denied = true
	return nil
}

func normalizeUserCode(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
}

// pendingDeviceCodeLocked finds a live, pending device code by user code.
func (p *Provider) pendingDeviceCodeLocked(userCode string) *deviceCode {
	ds := p.devicesLocked()
	dc := ds.codes[ds.byUser[normalizeUserCode(userCode)]]
	if dc == nil || !dc.pending() || p.now().After(dc.expiresAt) {
		return nil
	}
	return dc
}

// approveDeviceLocked records that userID approved dc (in the provider
// session sessionID, if any).
func (p *Provider) approveDeviceLocked(dc *deviceCode, userID, sessionID string, now time.Time) {
	dc.userID, dc.sessionID, dc.authTime = userID, sessionID, now
	if s := p.sessions[sessionID]; s != nil {
		dc.authTime = s.authTime
	}
}

// deviceGrantLocked records the grant of a redeemed device code, with the
// resource scopes the user holds. (Made at redemption, not approval: the
// store's sweep keeps only grants that a code or token refers to.)
func (p *Provider) deviceGrantLocked(dc *deviceCode, user User, now time.Time) *grant {
	g := &grant{
		id: randomToken(), clientID: dc.clientID, userID: user.ID, sessionID: dc.sessionID,
		scopes:    append([]string(nil), dc.scopes...),
		resources: p.grantResourcesLocked(user, dc.requested, dc.indicators),
		nonce:     dc.nonce, authTime: dc.authTime, expiresAt: now.Add(grantTTL),
	}
	p.grants[g.id] = g
	if s := p.sessions[dc.sessionID]; s != nil {
		s.grantIDs = append(s.grantIDs, g.id)
	}
	dc.grantID = g.id
	return g
}

// serveDevice routes /oidc/device and /oidc/device/auth (rel is the path
// below /oidc).
func (p *Provider) serveDevice(w http.ResponseWriter, r *http.Request, rel string, form url.Values) {
	switch {
	case rel == "/device/auth" && r.Method == http.MethodPost:
		p.handleDeviceAuthorization(w, r, form)
	case rel == "/device" && r.Method == http.MethodGet:
		p.handleDevicePage(w, r)
	case rel == "/device" && r.Method == http.MethodPost:
		p.handleDeviceAbort(w, form)
	default:
		p.notFound(w, r, "/oidc"+rel)
	}
}

// handleDeviceAuthorization serves POST /oidc/device/auth.
func (p *Provider) handleDeviceAuthorization(w http.ResponseWriter, r *http.Request, form url.Values) {
	resp, e := p.deviceAuthorization(r, form)
	if e != nil {
		p.log.Debug("logtotest: device authorization rejected", "error", e.code, "description", e.description)
		p.setClientAuthChallenge(w, e.status, e.body())
		writeError(w, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp)
}

func (p *Provider) deviceAuthorization(r *http.Request, form url.Values) (map[string]any, *oidcError) {
	if e := rejectDupes(form, "resource"); e != nil {
		return nil, e
	}
	app, e := p.authenticateClient(r, form)
	if e != nil {
		return nil, e
	}
	if !app.DeviceFlow {
		return nil, invalidRequest(deviceGrantType + " is not allowed for this client")
	}
	var requested []string
	for _, s := range strings.Fields(form.Get("scope")) {
		if !contains(requested, s) {
			requested = append(requested, s)
		}
	}
	var indicators []string
	for _, v := range form["resource"] {
		for _, ind := range strings.Split(v, ",") {
			if ind = strings.TrimSpace(ind); !contains(indicators, ind) {
				indicators = append(indicators, ind)
			}
		}
	}
	dc := &deviceCode{clientID: app.ID, requested: requested, nonce: form.Get("nonce")}
	// A device request has no prompt: offline_access stays (oidc-provider's
	// check_scope) since a device app may use the refresh_token grant.
	dc.scopes = intersect(requested, supportedScopes)

	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ind := range indicators {
		u, err := url.Parse(ind)
		switch {
		case ind == "" || err != nil || u.Scheme == "":
			return nil, newError(http.StatusBadRequest, "invalid_target", "resource indicator must be an absolute URI")
		case u.Fragment != "" || strings.Contains(ind, "#"):
			return nil, newError(http.StatusBadRequest, "invalid_target", "resource indicator must not contain a fragment component")
		}
		if _, ok := p.resources[ind]; !ok && ind != ReservedOrganizationResource {
			return nil, errInvalidTarget()
		}
	}
	dc.indicators = indicators
	ds := p.devicesLocked()
	now := p.now()
	dc.expiresAt, dc.interval = now.Add(deviceCodeTTL), ds.interval
	deviceCodeValue := randomToken()
	var display string
	for {
		display = newUserCode()
		if _, taken := ds.byUser[normalizeUserCode(display)]; !taken {
			break
		}
	}
	dc.userCode = normalizeUserCode(display)
	ds.codes[deviceCodeValue] = dc
	ds.byUser[dc.userCode] = deviceCodeValue
	if _, ok := p.userLocked(ds.autoUser); ok {
		p.approveDeviceLocked(dc, ds.autoUser, "", now)
	}
	resp := map[string]any{
		"device_code":               deviceCodeValue,
		"user_code":                 display,
		"verification_uri":          p.issuer + "/device",
		"verification_uri_complete": p.issuer + "/device?user_code=" + url.QueryEscape(display),
		"expires_in":                int(deviceCodeTTL / time.Second),
	}
	if ds.interval > 0 {
		resp["interval"] = int(ds.interval / time.Second)
	}
	return resp, nil
}

// newUserCode returns eight characters of oidc-provider's base-20 alphabet
// as XXXX-XXXX.
func newUserCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, deviceCodeAlphabet[int(c)%len(deviceCodeAlphabet)])
	}
	return string(out)
}

// deviceCodeGrant serves grant_type=urn:ietf:params:oauth:grant-type:device_code.
func (p *Provider) deviceCodeGrant(app App, form url.Values) (map[string]any, *oidcError) {
	if !app.DeviceFlow {
		return nil, invalidRequest("requested grant type is not allowed for this client")
	}
	value := form.Get("device_code")
	if value == "" {
		return nil, missingParam("device_code")
	}
	if len(form["resource"]) > 1 {
		return nil, errSingleResource()
	}
	resource := form.Get("resource")

	p.mu.Lock()
	now := p.now()
	p.maybeGCLocked(now)
	is, e := func() (*issue, *oidcError) {
		dc := p.devicesLocked().codes[value]
		if dc == nil || dc.clientID != app.ID {
			return nil, errInvalidGrant()
		}
		if now.After(dc.expiresAt) {
			return nil, newError(http.StatusBadRequest, "expired_token", "device code is expired")
		}
		if dc.pending() {
			if dc.interval > 0 && !dc.lastPoll.IsZero() && now.Sub(dc.lastPoll) < dc.interval {
				dc.interval += deviceSlowDownStep
				dc.lastPoll = now
				return nil, newError(http.StatusBadRequest, "slow_down", "you are polling too quickly and should back off at a reasonable rate")
			}
			dc.lastPoll = now
			return nil, newError(http.StatusBadRequest, "authorization_pending",
				"authorization request is still pending as the end-user hasn't yet completed the user interaction steps")
		}
		if dc.consumed {
			if dc.grantID != "" {
				p.revokeGrantLocked(dc.grantID)
			}
			return nil, errInvalidGrant()
		}
		dc.consumed = true
		if dc.denied {
			return nil, newError(http.StatusBadRequest, "access_denied", "End-User aborted interaction")
		}
		user, ok := p.userLocked(dc.userID)
		if !ok {
			return nil, errInvalidGrant()
		}
		return p.redeemGrantLocked(app, user, p.deviceGrantLocked(dc, user, now), resource, now)
	}()
	key := p.keys[0]
	p.mu.Unlock()
	if e != nil {
		return nil, e
	}
	return p.mint(is, key, now)
}

// handleDevicePage serves GET /oidc/device.
func (p *Provider) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	userCode := r.URL.Query().Get("user_code")
	if userCode == "" {
		renderDevicePage(w, http.StatusOK, devicePage{Title: "Sign-in", Message: "Enter the code displayed on your device", Form: true, Action: p.basePath + "/oidc/device"})
		return
	}
	p.mu.Lock()
	now := p.now()
	dc := p.pendingDeviceCodeLocked(userCode)
	if dc == nil {
		p.mu.Unlock()
		renderDevicePage(w, http.StatusBadRequest, devicePage{Title: "Sign-in", Message: "The code you entered is incorrect. Try again", Form: true, Action: p.basePath + "/oidc/device"})
		return
	}
	sess := p.sessionLocked(r, now)
	if p.experience != nil && sess == nil {
		// Sign in through the experience first; /oidc/auth/<uid> then
		// approves the code (resumeDeviceLocked).
		req := &authRequest{clientID: dc.clientID, requested: dc.requested, scopes: dc.scopes, indicators: dc.indicators,
			extra: url.Values{}, expiresAt: now.Add(interactionTTL)}
		uid := randomToken()
		p.interactions[uid] = req
		p.devicesLocked().byUID[uid] = p.device.byUser[dc.userCode]
		loc := p.experience.Location(req.interaction(uid))
		p.mu.Unlock()
		http.SetCookie(w, &http.Cookie{
			Name: InteractionCookie, Value: uid, Path: "/", MaxAge: int(interactionTTL / time.Second),
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secureCookies(),
		})
		setLogtoCookie(w, dc.clientID, "", "")
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	var userID, sessionID string
	if sess != nil {
		userID, sessionID = sess.userID, sess.id
	} else {
		userID = p.chooseUserLocked(r.Header.Get(SignInUserHeader), "")
	}
	if _, ok := p.userLocked(userID); !ok {
		p.mu.Unlock()
		renderDevicePage(w, http.StatusBadRequest, devicePage{Title: "Sign-in", Message: "There is no user to sign in."})
		return
	}
	p.approveDeviceLocked(dc, userID, sessionID, now)
	app, _ := p.appLocked(dc.clientID)
	p.mu.Unlock()
	renderDevicePage(w, http.StatusOK, deviceSuccess(app))
}

// handleDeviceAbort serves POST /oidc/device: user_code with abort denies it.
func (p *Provider) handleDeviceAbort(w http.ResponseWriter, form url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	if form.Get("abort") == "" {
		renderDevicePage(w, http.StatusBadRequest, devicePage{Title: "Sign-in", Message: "There was an error processing your request"})
		return
	}
	if err := p.DenyDeviceCode(form.Get("user_code")); err != nil {
		renderDevicePage(w, http.StatusBadRequest, devicePage{Title: "Sign-in", Message: "The code you entered is incorrect. Try again"})
		return
	}
	renderDevicePage(w, http.StatusOK, devicePage{Title: "Sign-in", Message: "The Sign-in request was interrupted"})
}

// resumeDeviceLocked finishes an experience sign-in started by the device
// page: it approves the device code for the signed-in user and returns the
// response to write once the lock is released; nil when uid is not a
// device sign-in.
func (p *Provider) resumeDeviceLocked(uid string, req *authRequest, now time.Time) func(http.ResponseWriter) {
	ds := p.devicesLocked()
	value, ok := ds.byUID[uid]
	if !ok {
		return nil
	}
	delete(ds.byUID, uid)
	dc := ds.codes[value]
	if dc == nil || !dc.pending() || now.After(dc.expiresAt) {
		return func(w http.ResponseWriter) {
			renderDevicePage(w, http.StatusBadRequest, devicePage{Title: "Sign-in", Message: "The code has expired or was already used. Start again on your device."})
		}
	}
	sess := p.newSessionLocked(req.userID, now)
	p.approveDeviceLocked(dc, req.userID, sess.id, now)
	app, _ := p.appLocked(dc.clientID)
	return func(w http.ResponseWriter) {
		p.setSessionCookie(w, sess)
		renderDevicePage(w, http.StatusOK, deviceSuccess(app))
	}
}

type devicePage struct {
	Title, Message string
	Form           bool
	Action         string
}

func deviceSuccess(app App) devicePage {
	name := app.Name
	if name == "" {
		name = app.ID
	}
	return devicePage{Title: "Sign-in Success", Message: "Your sign-in with " + name + " was successful, you can now close this page."}
}

var devicePageTemplate = template.Must(template.New("device").Parse(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .Form}}<form method="get" action="{{.Action}}"><input type="text" name="user_code" placeholder="XXXX-XXXX" autofocus><button type="submit">Continue</button></form>{{end}}
</body>
</html>
`))

func renderDevicePage(w http.ResponseWriter, status int, d devicePage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = devicePageTemplate.Execute(w, d)
}
