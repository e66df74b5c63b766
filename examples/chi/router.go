package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/logto-go/logto"
)

// scopeRead is the API permission the /api routes require (in the Logto
// Console: API resources → the API → Permissions, granted through a role).
const scopeRead = "read:messages"

// newRouter is the recipe: the routes of a chi app signed in with Logto.
//
//	GET  /sign-in, /callback; POST /sign-out, /backchannel-logout   the SDK (client.Handler)
//	GET  /                                   client.Middleware: Sign In, or Hello
//	GET  /profile                            client.RequireAuth: signed-in users only
//	GET  /api/messages                       rs.Middleware: a token with read:messages
//	GET  /api/organizations/{org}/messages   rs.OrganizationMiddleware: a token for {org}
//
// No adapter is needed: chi middleware has net/http's shape,
// func(http.Handler) http.Handler, so client.Middleware, client.RequireAuth
// and rs.Middleware(...) go into r.Use and r.With as they are, and the
// handlers get the ResponseWriter the SDK's middleware wrapped (see profile).
func newRouter(client *logto.Client, rs *logto.ResourceServer, apiResource string) *chi.Mux {
	r := chi.NewRouter()

	// The SDK's endpoints, at the client's paths. client.Handler checks the
	// methods itself (GET /sign-out → 405), so every method goes to it.
	auth := client.Handler()
	for _, path := range []string{client.SignInPath(), client.CallbackPath(), client.SignOutPath(), client.BackChannelLogoutPath()} {
		r.Handle(path, auth)
	}

	p := pages{client: client, apiResource: apiResource}
	// A page for everyone: Middleware puts the session's logto.Context in
	// the request context, signed in or not.
	r.With(client.Middleware).Get("/", p.home)
	// Pages for signed-in users: RequireAuth sends page navigations to
	// sign-in (back here afterwards) and answers other requests 401.
	r.Group(func(r chi.Router) {
		r.Use(client.RequireAuth)
		r.Get("/profile", p.profile)
	})

	// The API takes Logto access tokens (Authorization: Bearer) for
	// apiResource: 401 without a valid one, 403 without the scope.
	r.Route("/api", func(r chi.Router) {
		r.With(rs.Middleware(scopeRead)).Get("/messages", messages)
		// chi knows {org} only once it has routed the request: read it in
		// middleware given to With (or Use inside the Route), as here,
		// never in a Use on the top-level router, where it is still "".
		org := func(r *http.Request) string { return chi.URLParam(r, "org") }
		r.With(rs.OrganizationMiddleware(org, logto.OrganizationToken|logto.OrganizationResourceToken, scopeRead)).
			Get("/organizations/{org}/messages", messages)
	})
	return r
}

// pages renders the HTML pages.
type pages struct {
	client      *logto.Client
	apiResource string
}

// pageData is what the template reads: the logto.Context's fields
// (.IsAuthenticated, .Claims, .Scopes) and the links.
type pageData struct {
	logto.Context
	SignInPath, SignOutPath string
	// Profile is set on /profile, whose Scopes are those of the user's
	// access token for APIResource.
	Profile     bool
	APIResource string
}

func (p pages) home(w http.ResponseWriter, r *http.Request) {
	p.render(w, pageData{Context: logto.FromContext(r.Context())})
}

func (p pages) profile(w http.ResponseWriter, r *http.Request) {
	// The Context with an access token for the API, refreshed when needed.
	// w is the ResponseWriter chi handed over, the one RequireAuth wrapped:
	// the session (with the new token) is written to it as a cookie just
	// before the response's headers. Call the SDK before writing anything.
	lc, err := p.client.GetContext(w, r, logto.WithAccessToken(p.apiResource))
	switch {
	case errors.Is(err, logto.ErrNotAuthenticated):
		// Logto ended the session; its cookies are cleared.
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	case err != nil:
		p.client.DefaultErrorHandler(w, r, err) // logs err, renders its status
		return
	}
	p.render(w, pageData{Context: lc, Profile: true, APIResource: p.apiResource})
}

func (p pages) render(w http.ResponseWriter, data pageData) {
	data.SignInPath, data.SignOutPath = p.client.SignInPath(), p.client.SignOutPath()
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		http.Error(w, "Something went wrong", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // the page shows personal data
	_, _ = buf.WriteTo(w)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Logto + chi</title></head>
<body>
{{- if .IsAuthenticated}}
<p>Hello, {{.Claims.Sub}}{{with .Claims.Name}} ({{.}}){{end}}</p>
{{- if .Profile}}
<p>Your access token for <code>{{.APIResource}}</code> grants: {{range .Scopes}}<code>{{.}}</code> {{else}}no scope{{end}}</p>
<p><a href="/">Home</a></p>
{{- else}}
<p><a href="/profile">Profile</a></p>
{{- end}}
<form method="post" action="{{.SignOutPath}}"><button type="submit">Sign Out</button></form>
{{- else}}
<p><a href="{{.SignInPath}}?returnTo=/profile">Sign In</a></p>
{{- end}}
</body>
</html>
`))

// messages answers an API request that the ResourceServer let through, with
// who asked and what their token grants.
func messages(w http.ResponseWriter, r *http.Request) {
	claims, _ := logto.AccessTokenFromContext(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sub":            claims.Sub,
		"scopes":         claims.Scopes(),
		"organizationId": chi.URLParam(r, "org"),
		"messages":       []string{"Hello from the chi recipe!"},
	})
}
