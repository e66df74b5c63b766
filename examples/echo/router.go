package main

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/logto-go/logto"
)

// scopeRead is the permission GET /api/messages requires.
const scopeRead = "read:messages"

// newRouter mounts the recipe on a new Echo:
//
//	GET  /sign-in, /callback           the Client's handlers, at its paths
//	POST /sign-out, /backchannel-logout
//	GET  /              everyone: Sign In, or Hello and Sign Out
//	GET  /profile       signed-in users only: the claims and the scopes of
//	                    the access token for apiResource
//	GET  /api/messages  the API: a token for rs's audience with read:messages
func newRouter(client *logto.Client, rs *logto.ResourceServer, apiResource string) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true

	// The SDK's endpoints are http.Handlers; each answers at its own path.
	auth := echo.WrapHandler(client.Handler())
	e.GET(client.SignInPath(), auth)
	e.GET(client.CallbackPath(), auth)
	e.POST(client.SignOutPath(), auth)
	e.POST(client.BackChannelLogoutPath(), auth)

	// The adapter is echo.WrapMiddleware, used as is. It runs the SDK's
	// func(http.Handler) http.Handler with c.Response() as the writer, and
	// its next does c.SetRequest(r) and c.SetResponse(echo.NewResponse(w)),
	// where r carries the request's session and w is the SDK's writer, which
	// writes the session cookie just before the response's headers. So what
	// the handler (and Echo's error handler) writes through c.Response()
	// goes through that writer: a token refresh in the handler ends in the
	// cookie. Handlers must therefore use c.Request() and c.Response()
	// (never a writer or request captured before this middleware ran).
	session := echo.WrapMiddleware(client.Middleware)
	signedIn := echo.WrapMiddleware(client.RequireAuth) // pages: 303 to sign-in; others: 401
	readMessages := echo.WrapMiddleware(rs.Middleware(scopeRead))

	p := pages{client: client, apiResource: apiResource}
	e.GET("/", p.home, session)
	e.GET("/profile", p.profile, signedIn)
	e.GET("/api/messages", messages, readMessages)
	return e
}

// pages serves the HTML pages.
type pages struct {
	client      *logto.Client
	apiResource string
}

// pageData is what page renders: the request's logto.Context and links.
type pageData struct {
	logto.Context
	SignInPath, SignOutPath string
	Profile                 bool   // the profile page
	API                     string // the resource Scopes are for
}

func (p pages) home(c echo.Context) error {
	return p.render(c, pageData{Context: logto.FromContext(c.Request().Context())})
}

func (p pages) profile(c echo.Context) error {
	// GetContext may refresh tokens (here: to get an access token for the
	// API); the refreshed session is written by the SDK's writer, which
	// c.Response() is behind.
	lc, err := p.client.GetContext(c.Response(), c.Request(), logto.WithAccessToken(p.apiResource))
	switch {
	case errors.Is(err, logto.ErrNotAuthenticated): // Logto ended the session
		return c.Redirect(http.StatusSeeOther, p.client.SignInPath())
	case err != nil:
		c.Logger().Warnf("profile: %v", err) // never shown: it may quote Logto
		return echo.NewHTTPError(logto.StatusCode(err))
	}
	return p.render(c, pageData{Context: lc, Profile: true, API: p.apiResource})
}

func (p pages) render(c echo.Context, data pageData) error {
	data.SignInPath, data.SignOutPath = p.client.SignInPath(), p.client.SignOutPath()
	var buf bytes.Buffer
	if err := page.Execute(&buf, data); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store") // personal data
	h.Set("X-Content-Type-Options", "nosniff")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Logto + Echo</title></head>
<body>
{{- if .IsAuthenticated}}
<p>Hello, {{.Claims.Sub}}</p>
{{- if .Profile}}
<p>Name: {{.Claims.Name}}</p>
<p>Your access token for {{.API}} grants: {{range .Scopes}}<code>{{.}}</code> {{else}}nothing{{end}}</p>
<p><a href="/">Home</a></p>
{{- else}}
<p><a href="/profile">Profile</a></p>
{{- end}}
<form method="post" action="{{.SignOutPath}}"><button type="submit">Sign Out</button></form>
{{- else}}
<p><a href="{{.SignInPath}}">Sign In</a></p>
{{- end}}
</body>
</html>
`))

// messages is the API: it answers for the user whose token
// ResourceServer.Middleware verified.
func messages(c echo.Context) error {
	claims, _ := logto.AccessTokenFromContext(c.Request().Context())
	return c.JSON(http.StatusOK, map[string]any{
		"messages": []map[string]string{{"text": "Hello from the Echo recipe", "to": claims.Sub}},
	})
}
