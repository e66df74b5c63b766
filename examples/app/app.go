package main

import (
	"bytes"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/logto-go/logto"
)

// app is the demo web app: an [http.Handler] serving
//
//	GET  /             the home page
//	GET  /api/context  the LogtoContext as JSON
//	GET  /sign-in      (SDK) redirect to Logto, optional ?returnTo=/path
//	GET  /callback     (SDK) finish the sign-in
//	POST /sign-out     (SDK) end the session
type app struct {
	client *logto.Client
	logger *slog.Logger
	base   string // path prefix of the base URL, "" or "/prefix"
	mux    *http.ServeMux
}

// newApp builds the app for cfg; it does not contact Logto.
func newApp(cfg logto.Config) (*app, error) {
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
		mux:    http.NewServeMux(),
	}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	a.mux.Handle("GET /{$}", client.Middleware(http.HandlerFunc(a.home)))
	a.mux.HandleFunc("GET /api/context", a.context)
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
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	data := homeData{Context: logto.FromContext(r.Context()), Base: a.base}
	if data.IsAuthenticated {
		b, err := json.MarshalIndent(data.Claims, "", "  ")
		if err != nil {
			a.logger.Error("marshal claims", "err", err)
			http.Error(w, "Something went wrong", http.StatusInternalServerError)
			return
		}
		data.ClaimsJSON = string(b)
	}
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
	_, _ = buf.WriteTo(w)
}

// context answers with the request's LogtoContext, in @logto/next's shape:
// {"isAuthenticated":true,"claims":{...},"scopes":[...]}.
func (a *app) context(w http.ResponseWriter, r *http.Request) {
	lc, err := a.client.GetContext(w, r)
	if err != nil {
		a.client.DefaultErrorHandler(w, r, err)
		return
	}
	b, err := json.Marshal(lc)
	if err != nil {
		a.logger.Error("marshal context", "err", err)
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(b, '\n'))
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
{{- else}}
  <p class="muted">You are signed out. Sign in with Logto to see your ID token claims.</p>
{{- end}}
  <p class="muted">The same data as JSON: <a href="{{.Base}}/api/context">/api/context</a></p>
</main>
</body>
</html>
`))
