package logtotest

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxBodyBytes caps request bodies like Logto (56 kb).
const maxBodyBytes = 56 * 1024

// Options configures [New].
type Options struct {
	// URL is the endpoint base, e.g. "http://localhost:3001", optionally
	// with a path prefix. The issuer is URL + "/oidc". Required.
	URL string
	// Apps are the registered applications. Default: []App{DefaultApp()}.
	Apps []App
	// Users are the users that can sign in. Default: []User{DefaultUser()}.
	Users []User
	// Resources are the API resources accepted in the resource parameter.
	// Default: none.
	Resources []Resource
	// Roles are global roles granting resource scopes to the users that
	// hold them (User.Roles). Default: none. While no Roles and no
	// organization roles are configured, a user holds every scope of every
	// Resource.
	Roles []Role
	// Organizations are organizations with their roles. Default: none.
	// Membership is User.Organizations either way; configuring an
	// organization gives it a name, a description and roles.
	Organizations []Organization
	// Now is the clock behind every exp, iat and TTL. Default: time.Now.
	Now func() time.Time
	// SigningKey is the current P-384 key. Default: a generated one.
	SigningKey *ecdsa.PrivateKey
	// Logger receives debug logs of rejected requests. Default: discard.
	Logger *slog.Logger
	// AccessTokenHash makes ID tokens from the token endpoint carry at_hash,
	// the hash of the access token issued with them (OpenID Connect Core
	// 3.1.3.6), as oidc-provider can. Logto 1.42 sends none. Default: off.
	AccessTokenHash bool
}

// Provider is a Logto-compatible OpenID Connect provider served in process.
// It is an [http.Handler] and is safe for concurrent use; all state lives in
// memory and expired codes, sessions and tokens are swept periodically.
type Provider struct {
	url      string // endpoint base, no trailing slash
	basePath string // path of url, "" or "/prefix"
	issuer   string
	now      func() time.Time
	log      *slog.Logger
	atHash   bool

	mu         sync.Mutex
	hookSet    Hooks
	keys       []*signingKey // current first, then previous
	apps       map[string]App
	users      []User
	resources  map[string]Resource
	roles      map[string]Role
	orgs       map[string]Organization
	signInUser string
	requests   []Request
	experience Experience
	store
	device deviceState // device.go
}

var _ http.Handler = (*Provider)(nil)

// New returns a provider for opts. It fails when URL is missing or not an
// absolute http(s) URL, when SigningKey is not on P-384, or when an app or
// user has no ID, a role no name or an organization no ID.
func New(opts Options) (*Provider, error) {
	u, err := url.Parse(opts.URL)
	if opts.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") ||
		u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("logtotest: Options.URL must be an absolute http(s) URL without query, got %q", opts.URL)
	}
	base := strings.TrimRight(opts.URL, "/")
	p := &Provider{
		url:       base,
		basePath:  strings.TrimRight(u.EscapedPath(), "/"),
		issuer:    base + "/oidc",
		now:       opts.Now,
		log:       opts.Logger,
		atHash:    opts.AccessTokenHash,
		apps:      map[string]App{},
		resources: map[string]Resource{},
		roles:     map[string]Role{},
		orgs:      map[string]Organization{},
		store:     newStore(),
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	var key *signingKey
	if opts.SigningKey != nil {
		key, err = newSigningKey(opts.SigningKey)
	} else {
		key, err = generateSigningKey()
	}
	if err != nil {
		return nil, err
	}
	p.keys = []*signingKey{key}

	apps, users := opts.Apps, opts.Users
	if apps == nil {
		apps = []App{DefaultApp()}
	}
	if users == nil {
		users = []User{DefaultUser()}
	}
	for _, a := range apps {
		if a.ID == "" {
			return nil, errors.New("logtotest: an App has an empty ID")
		}
		p.AddApp(a)
	}
	for _, usr := range users {
		if usr.ID == "" {
			return nil, errors.New("logtotest: a User has an empty ID")
		}
		p.AddUser(usr)
	}
	for _, r := range opts.Resources {
		p.AddResource(r)
	}
	for _, r := range opts.Roles {
		if r.Name == "" {
			return nil, errors.New("logtotest: a Role has an empty Name")
		}
		p.AddRole(r)
	}
	for _, o := range opts.Organizations {
		if o.ID == "" {
			return nil, errors.New("logtotest: an Organization has an empty ID")
		}
		p.AddOrganization(o)
	}
	return p, nil
}

// URL returns the endpoint base, without a trailing slash.
func (p *Provider) URL() string { return p.url }

// Issuer returns URL() + "/oidc".
func (p *Provider) Issuer() string { return p.issuer }

// AddApp registers a, replacing an app with the same ID.
func (p *Provider) AddApp(a App) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.apps[a.ID] = a.clone()
}

// AddUser adds u, replacing a user with the same ID. Zero CreatedAt and
// UpdatedAt are set from the provider clock.
func (p *Provider) AddUser(u User) {
	u = u.clone()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = p.now()
	}
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.users {
		if p.users[i].ID == u.ID {
			p.users[i] = u
			return
		}
	}
	p.users = append(p.users, u)
}

// AddResource registers an API resource, replacing one with the same
// indicator.
func (p *Provider) AddResource(r Resource) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resources[r.Indicator] = r.clone()
}

// SetSignInUser chooses the user that /oidc/auth signs in (default: the
// first user). A login_hint equal to a user's phone, email or username
// selects that user instead, and a browser's [SignInUserHeader] (see
// [AsUser]) overrides both for its own requests.
func (p *Provider) SetSignInUser(userID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.signInUser = userID
}

func (p *Provider) appLocked(id string) (App, bool) {
	a, ok := p.apps[id]
	return a, ok
}

func (p *Provider) userLocked(id string) (User, bool) {
	for _, u := range p.users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// ServeHTTP routes the Logto endpoints under URL().
func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, ferr := readForm(w, r)
	p.record(r, form)

	if d := p.hooks().Delay; d != nil {
		if wait := d(r.URL.Path); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
	}

	rel, ok := strings.CutPrefix(r.URL.Path, p.basePath)
	if !ok || !strings.HasPrefix(rel, "/oidc/") {
		p.notFound(w, r, rel)
		return
	}
	if ferr != nil {
		p.log.Debug("logtotest: bad request body", "path", r.URL.Path, "error", ferr)
		writeError(w, ferr)
		return
	}
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	params := r.URL.Query()
	if post {
		params = form
	}
	switch rel = strings.TrimPrefix(rel, "/oidc"); {
	case get && (rel == "/.well-known/openid-configuration" || rel == "/.well-known/oauth-authorization-server"):
		p.handleDiscovery(w, r)
	case get && rel == "/jwks":
		p.handleJWKS(w, r)
	case (get || post) && rel == "/auth":
		p.handleAuthorize(w, r, params)
	case get && strings.HasPrefix(rel, "/auth/") && !strings.Contains(rel[len("/auth/"):], "/"):
		p.handleResume(w, r, rel[len("/auth/"):])
	case post && rel == "/token":
		p.handleToken(w, r, form)
	case (get || post) && rel == "/me":
		p.handleUserinfo(w, r, form)
	case post && rel == "/token/revocation":
		p.handleRevocation(w, r, form)
	case (get || post) && rel == "/session/end":
		p.handleEndSession(w, r, params)
	case post && rel == "/session/end/confirm":
		p.handleEndSessionConfirm(w, r, form)
	case get && rel == "/session/end/success":
		p.handleEndSessionSuccess(w, r)
	case rel == "/device" || rel == "/device/auth":
		p.serveDevice(w, r, rel, form)
	default:
		p.notFound(w, r, "/oidc"+rel)
	}
}

func (p *Provider) notFound(w http.ResponseWriter, r *http.Request, path string) {
	e := newError(http.StatusNotFound, "invalid_request",
		fmt.Sprintf("unrecognized route or not allowed method (%s on %s)", r.Method, path))
	writeError(w, e)
}

// readForm reads a POST body (form or JSON, like Logto) into url.Values.
// The body is capped at maxBodyBytes.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *oidcError) {
	form := url.Values{}
	if r.Method != http.MethodPost || r.Body == nil {
		return form, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return form, newError(http.StatusRequestEntityTooLarge, "invalid_request", "request entity too large")
		}
		return form, invalidRequest("could not read the request body")
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return form, invalidRequest("could not parse the request body")
		}
		form = v
	case "application/json":
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return form, invalidRequest("could not parse the request body")
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				form.Add(k, v)
			case []any:
				for _, e := range v {
					s, ok := e.(string)
					if !ok {
						return form, invalidRequest("invalid parameter '" + k + "'")
					}
					form.Add(k, s)
				}
			case nil:
			default:
				b, _ := json.Marshal(v)
				form.Add(k, string(b))
			}
		}
	}
	for _, vs := range form {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				return url.Values{}, invalidRequest("request contains a NUL byte")
			}
		}
	}
	return form, nil
}

// rejectDupes returns invalid_request for any parameter but those in allow
// given more than once, checking names in sorted order.
func rejectDupes(params url.Values, allow ...string) *oidcError {
	var dup string
	for k, vs := range params {
		if len(vs) < 2 || (len(allow) > 0 && contains(allow, k)) {
			continue
		}
		if dup == "" || k < dup {
			dup = k
		}
	}
	if dup != "" {
		return invalidRequest("'" + dup + "' parameter must not be provided twice")
	}
	return nil
}
