package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/logto-go/logto"
)

// app is the demo web app: an [http.Handler] serving
//
//	GET  /             the home page
//	GET  /api/context  the LogtoContext as JSON; query parameters
//	                   fetchUserInfo=1, getAccessToken=1, resource=R,
//	                   organizationId=O as in @logto/next's getLogtoContext
//	POST /call-api     gets an access token for the API and calls it,
//	                   optional organizationId=O (form field)
//	GET  /sign-in      (SDK) redirect to Logto, optional ?returnTo=/path
//	GET  /callback     (SDK) finish the sign-in
//	POST /sign-out     (SDK) end the session
type app struct {
	client *logto.Client
	logger *slog.Logger
	base   string    // path prefix of the base URL, "" or "/prefix"
	api    apiTarget // zero: no "Call the API"
	http   *http.Client
	mux    *http.ServeMux
}

// apiTarget is the API that POST /call-api calls: examples/api.
type apiTarget struct {
	Resource string // the resource indicator tokens are asked for
	URL      string // where it listens, without a trailing slash
}

// newApp builds the app for cfg; it does not contact Logto. api may be zero;
// it is ignored unless api.Resource is one of the client's resources.
func newApp(cfg logto.Config, api apiTarget) (*app, error) {
	client, err := logto.New(cfg)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(client.RedirectURI())
	if err != nil {
		return nil, err
	}
	a := &app{
		client: client,
		logger: cfg.Logger,
		base:   strings.TrimSuffix(u.Path, "/callback"),
		http: &http.Client{
			Timeout: 10 * time.Second,
			// Never resend a token somewhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		mux: http.NewServeMux(),
	}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	if api.Resource != "" && api.URL != "" {
		if slices.Contains(client.Resources(), api.Resource) {
			a.api = api
		} else {
			a.logger.Warn("the API resource is not among the requested resources: no Call the API button", "resource", api.Resource)
		}
	}
	a.mux.Handle("GET /{$}", client.Middleware(http.HandlerFunc(a.home)))
	// Middleware shares one session between the calls of a request, so the
	// token refreshes of one request end in one consistent cookie.
	a.mux.Handle("GET /api/context", client.Middleware(http.HandlerFunc(a.context)))
	a.mux.Handle("POST /call-api", http.NewCrossOriginProtection().Handler(client.Middleware(http.HandlerFunc(a.callAPI))))
	a.mux.Handle("/", client.Handler())
	return a, nil
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(w, r)
}

type homeData struct {
	logto.Context
	Base       string // prefix for links
	ClaimsJSON string
	// API is the resource indicator of the API the page can call; empty: none.
	API string
	// Organizations the page offers to call the API for.
	Organizations []string
	// APIResult is the outcome of POST /call-api.
	APIResult *apiResult
}

// apiResult is what the home page shows after "Call the API".
type apiResult struct {
	Request   string // e.g. "GET http://localhost:3002/api/messages"
	Status    string // the API's status line, e.g. "200 OK"
	Challenge string // its WWW-Authenticate header
	Body      string // its body, indented when JSON
	Error     string // set when there is no API answer
}

func (a *app) homeData(lc logto.Context) (homeData, error) {
	data := homeData{Context: lc, Base: a.base}
	if !lc.IsAuthenticated {
		return data, nil
	}
	b, err := json.MarshalIndent(lc.Claims, "", "  ")
	if err != nil {
		return data, err
	}
	data.ClaimsJSON = string(b)
	if a.api.Resource != "" {
		data.API = a.api.Resource
		if slices.Contains(a.client.Scopes(), logto.UserScopeOrganizations) {
			data.Organizations = lc.Claims.Organizations
		}
	}
	return data, nil
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	data, err := a.homeData(logto.FromContext(r.Context()))
	if err != nil {
		a.logger.Error("marshal claims", "err", err)
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	a.render(w, http.StatusOK, data)
}

func (a *app) render(w http.ResponseWriter, status int, data homeData) {
	var buf bytes.Buffer
	if err := homePage.Execute(&buf, data); err != nil {
		a.logger.Error("render home page", "err", err)
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // the page shows personal data
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// maxOrganizationID bounds the organizationId parameter (Logto's IDs are 12
// characters).
const maxOrganizationID = 128

// context answers with the request's LogtoContext, in @logto/next's shape:
// {"isAuthenticated":true,"claims":{...},"scopes":[...]}, plus accessToken,
// userInfo and organizationTokens as the query asks (see contextOptions).
func (a *app) context(w http.ResponseWriter, r *http.Request) {
	opts, problem := a.contextOptions(r.URL.Query())
	if problem != "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	lc, err := a.client.GetContext(w, r, opts...)
	switch {
	case err == nil:
	case errors.Is(err, logto.ErrNotAuthenticated):
		// No session, or Logto ended it (its cookies are cleared): answer
		// with what GetContext has, a signed-out Context.
		a.logger.Info("context: not authenticated", "err", err)
	default:
		status := logto.StatusCode(err)
		a.logger.Warn("context: Logto did not give everything asked for", "status", status, "err", err)
		code, message := errorText(status)
		writeJSONError(w, status, code, message)
		return
	}
	b, err := json.Marshal(lc)
	if err != nil {
		a.logger.Error("marshal context", "err", err)
		writeJSONError(w, http.StatusInternalServerError, "internal", "Something went wrong.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
}

// contextOptions maps @logto/next's GetContextParameters, given as query
// parameters, to GetContext options:
//
//	fetchUserInfo=1                             WithUserInfo
//	getAccessToken=1[&resource=R]               WithAccessToken(R), "" = the default token
//	getAccessToken=1&organizationId=O           WithAccessToken("") + WithOrganization(O)
//	getAccessToken=1&resource=R&organizationId=O  R's token scoped to O
//	organizationId=O                            WithOrganization(O): organizationTokens[O]
//
// A resource that is not one of the app's, or an organization without the
// organizations scope, is a bad request: Logto would refuse it anyway.
func (a *app) contextOptions(q url.Values) (opts []logto.ContextOption, problem string) {
	for k, v := range q {
		if len(v) > 1 {
			return nil, k + " is given more than once"
		}
	}
	flag := func(k string) (bool, bool) {
		if q.Get(k) == "" {
			return false, true
		}
		b, err := strconv.ParseBool(q.Get(k))
		return b, err == nil
	}
	userInfo, ok := flag("fetchUserInfo")
	if !ok {
		return nil, "fetchUserInfo must be 1 or 0"
	}
	accessToken, ok := flag("getAccessToken")
	if !ok {
		return nil, "getAccessToken must be 1 or 0"
	}
	resource, org := q.Get("resource"), q.Get("organizationId")
	if userInfo {
		opts = append(opts, logto.WithUserInfo())
	}
	if accessToken {
		if resource != "" && !slices.Contains(a.client.Resources(), resource) {
			return nil, "resource is not one of the app's API resources (LOGTO_RESOURCES)"
		}
		opts = append(opts, logto.WithAccessToken(resource))
	}
	if org != "" {
		if len(org) > maxOrganizationID {
			return nil, "organizationId is too long"
		}
		if !slices.Contains(a.client.Scopes(), logto.UserScopeOrganizations) {
			return nil, "organization tokens need the " + logto.UserScopeOrganizations + " scope (LOGTO_SCOPES)"
		}
		opts = append(opts, logto.WithOrganization(org))
	}
	return opts, ""
}

// errorText is the generic error code and message for a status: never the
// error's own text, which may quote Logto.
func errorText(status int) (code, message string) {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request", "The request is invalid."
	case http.StatusUnauthorized:
		return "not_authenticated", "Sign in first."
	case http.StatusForbidden:
		return "access_denied", "Logto refused to issue the token."
	case http.StatusBadGateway:
		return "bad_gateway", "Logto gave an unusable answer."
	case http.StatusServiceUnavailable:
		return "unavailable", "Logto cannot be reached."
	case http.StatusGatewayTimeout:
		return "timeout", "Logto did not answer in time."
	}
	return "internal", "Something went wrong."
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "message": message})
}

// callAPI gets an access token for the API (an organization token when the
// form names an organization), calls the API with it and shows the answer
// on the home page.
func (a *app) callAPI(w http.ResponseWriter, r *http.Request) {
	lc := logto.FromContext(r.Context())
	if !lc.IsAuthenticated || a.api.Resource == "" {
		http.Redirect(w, r, a.base+"/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad form", http.StatusBadRequest)
		return
	}
	data, err := a.homeData(lc)
	if err != nil {
		a.logger.Error("marshal claims", "err", err)
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	org := r.PostForm.Get("organizationId")
	path := "/api/messages"
	var token string
	if org == "" {
		token, err = a.client.GetAccessToken(w, r, a.api.Resource)
	} else {
		if !slices.Contains(data.Organizations, org) {
			http.Error(w, "Not a member of this organization", http.StatusBadRequest)
			return
		}
		path = "/api/organizations/" + url.PathEscape(org) + "/messages"
		token, err = a.client.GetOrganizationToken(w, r, org)
	}
	res := &apiResult{Request: "GET " + a.api.URL + path}
	data.APIResult = res
	status := http.StatusOK
	switch {
	case errors.Is(err, logto.ErrNotAuthenticated):
		// Logto ended the session; its cookies are cleared.
		a.logger.Info("call API: not authenticated", "err", err)
		http.Redirect(w, r, a.base+"/", http.StatusSeeOther)
		return
	case err != nil:
		status = logto.StatusCode(err)
		a.logger.Warn("call API: no access token", "status", status, "err", err)
		_, msg := errorText(status)
		res.Error = "No access token: " + msg
	default:
		if !a.fetchAPI(r.Context(), res, a.api.URL+path, token) {
			status = http.StatusBadGateway
		}
	}
	a.render(w, status, data)
}

// fetchAPI calls rawURL with token and records the answer in res; false when
// the API did not answer.
func (a *app) fetchAPI(ctx context.Context, res *apiResult, rawURL, token string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		a.logger.Error("call API", "err", err)
		res.Error = "Bad API URL."
		return false
	}
	req.Header.Set("Authorization", "Bearer "+token) // RFC 6750 2.1
	req.Header.Set("Accept", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		a.logger.Warn("call API", "url", rawURL, "err", err)
		res.Error = "The API did not answer: is examples/api running at " + a.api.URL + "?"
		return false
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		a.logger.Warn("call API: reading the answer", "err", err)
	}
	res.Status = resp.Status
	res.Challenge = resp.Header.Get("WWW-Authenticate")
	var v any
	if json.Unmarshal(body, &v) == nil {
		if b, err := json.MarshalIndent(v, "", "  "); err == nil {
			body = b
		}
		res.Body = string(body)
	} else {
		res.Body = fmt.Sprintf("(%d bytes, not JSON)", len(body))
	}
	return true
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logto Go sample</title>
<style>
:root { color-scheme: light dark; --accent: #5d34f2; --line: #8884; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 48rem; margin: 3rem auto; padding: 0 1.25rem; line-height: 1.5; }
header { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding-bottom: 1rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.4rem; margin: 0; }
nav { display: flex; align-items: center; gap: .75rem; }
nav p { margin: 0; }
form { margin: 0; }
.button { display: inline-block; font: inherit; font-weight: 600; padding: .45rem 1.1rem; border-radius: .5rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
.button:hover { filter: brightness(1.1); }
.button.secondary { background: transparent; color: var(--accent); }
h2 { font-size: 1.1rem; margin-top: 2rem; }
pre { background: #8881; border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; overflow: auto; font-size: .85rem; }
code { font-size: .9em; }
.muted { opacity: .75; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; }
</style>
</head>
<body>
<header>
  <h1>Logto Go sample</h1>
  <nav>
  {{- if .IsAuthenticated}}
    <p>Hello, {{.Claims.Sub}}</p>
    <form method="post" action="{{.Base}}/sign-out"><button class="button secondary" type="submit">Sign Out</button></form>
  {{- else}}
    <a class="button" href="{{.Base}}/sign-in">Sign In</a>
  {{- end}}
  </nav>
</header>
<main>
{{- if .IsAuthenticated}}
  <h2>Claims</h2>
  <pre>{{.ClaimsJSON}}</pre>
  {{- with .Scopes}}
  <h2>Scopes</h2>
  <p>{{range $i, $s := .}}{{if $i}} {{end}}<code>{{$s}}</code>{{end}}</p>
  {{- end}}
  {{- if .API}}
  <h2>API</h2>
  <p class="muted">Get an access token for <code>{{.API}}</code> and call the API (examples/api) with it.</p>
  <div class="actions">
    <form method="post" action="{{.Base}}/call-api"><button class="button" type="submit">Call the API</button></form>
    {{- range .Organizations}}
    <form method="post" action="{{$.Base}}/call-api"><input type="hidden" name="organizationId" value="{{.}}"><button class="button secondary" type="submit">Call the API as {{.}}</button></form>
    {{- end}}
  </div>
  {{- with .APIResult}}
  <h3><code>{{.Request}}</code></h3>
  {{- if .Error}}
  <p>{{.Error}}</p>
  {{- else}}
  <p>{{.Status}}{{with .Challenge}} &middot; <code>WWW-Authenticate: {{.}}</code>{{end}}</p>
  <pre>{{.Body}}</pre>
  {{- end}}
  {{- end}}
  {{- end}}
{{- else}}
  <p class="muted">You are signed out. Sign in with Logto to see your ID token claims.</p>
{{- end}}
  <p class="muted">The same data as JSON: <a href="{{.Base}}/api/context">/api/context</a></p>
</main>
</body>
</html>
`))
