// Package messages is the HTTP handler of the demo API (examples/api): a tiny
// message board protected by Logto access tokens with [logto.ResourceServer].
// It lives in its own package so that examples/app can serve it in process
// next to its demo provider, and test against it.
//
// Routes:
//
//	GET  /healthz                           open
//	GET  /api/messages                      a user token with read:messages
//	POST /api/messages                      a user token with write:messages, body {"text":"..."}
//	GET  /api/organizations/{id}/messages   an organization token for {id}
//	                                        (or a resource token scoped to {id})
//	                                        with read:messages
//
// Rejections come from the ResourceServer: 401 with WWW-Authenticate for a
// missing or invalid token (an organization token on a user route too), 403
// insufficient_scope for a missing scope, a token for another organization,
// or a token of the wrong kind (an organization-scoped resource token on a
// user route, a user token on the organization route).
//
// README: https://github.com/logto-go/logto#calling-your-api
package messages

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/logto-go/logto"
)

// Scopes of the demo API resource. In the Logto Console: API resources →
// the API → Permissions.
const (
	ScopeRead  = "read:messages"
	ScopeWrite = "write:messages"
)

const (
	maxMessages   = 100     // the board keeps the newest ones
	maxTextRunes  = 280     // per message
	maxBodyBytes  = 4 << 10 // POST body
	authorAPI     = "api"   // author of the built-in messages
	welcomeText   = "Hello from the Logto Go API example!"
	contentTypeJS = "application/json"
)

// Config configures [New].
type Config struct {
	// Endpoint is the Logto endpoint, e.g. "https://foo.logto.app".
	Endpoint string
	// Audience is the API resource indicator, e.g. "http://localhost:3002":
	// tokens must be issued for it.
	Audience string
	// HTTPClient fetches Logto's discovery document and keys. nil: 10 s timeout.
	HTTPClient *http.Client
	// Logger gets rejected tokens' reasons (never a token). nil discards.
	Logger *slog.Logger
	// Now is the clock. nil: time.Now.
	Now func() time.Time
}

// Message is one message of the board.
type Message struct {
	ID        int       `json:"id"`
	Text      string    `json:"text"`
	Author    string    `json:"author"` // the sub of the token that posted it
	CreatedAt time.Time `json:"createdAt"`
}

// API serves the routes listed in the package documentation. It is safe for
// concurrent use.
type API struct {
	mux *http.ServeMux
	now func() time.Time

	mu       sync.Mutex
	messages []Message // oldest first
	nextID   int
}

var _ http.Handler = (*API)(nil)

// New builds the API; it does not contact Logto (the ResourceServer fetches
// the keys on first use).
func New(cfg Config) (*API, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rs, err := logto.NewResourceServer(logto.ResourceServerConfig{
		Endpoint:   cfg.Endpoint,
		Audience:   cfg.Audience,
		HTTPClient: cfg.HTTPClient,
		Logger:     cfg.Logger,
		Now:        cfg.Now,
	})
	if err != nil {
		return nil, err
	}

	a := &API{mux: http.NewServeMux(), now: cfg.Now, nextID: 2}
	a.messages = []Message{{ID: 1, Text: welcomeText, Author: authorAPI, CreatedAt: cfg.Now().UTC().Truncate(time.Second)}}

	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	// User routes take user tokens only: the scopes of the user's own roles.
	a.mux.Handle("GET /api/messages", rs.Middleware(ScopeRead)(http.HandlerFunc(a.list)))
	a.mux.Handle("POST /api/messages", rs.Middleware(ScopeWrite)(http.HandlerFunc(a.post)))
	// The organization route takes tokens for the organization in the path:
	// organization tokens and this API's tokens scoped to it.
	organization := func(r *http.Request) string { return r.PathValue("id") }
	a.mux.Handle("GET /api/organizations/{id}/messages", rs.OrganizationMiddleware(organization,
		logto.OrganizationToken|logto.OrganizationResourceToken, ScopeRead)(http.HandlerFunc(a.listOrganization)))
	return a, nil
}

// ServeHTTP serves the API's routes.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mux.ServeHTTP(w, r)
}

// listResponse is the answer of the GET routes.
type listResponse struct {
	OrganizationID string    `json:"organizationId,omitempty"`
	Messages       []Message `json:"messages"`
	Sub            string    `json:"sub"`    // who asked: the token's subject
	Scopes         []string  `json:"scopes"` // what the token grants
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	claims, _ := logto.AccessTokenFromContext(r.Context())
	a.mu.Lock()
	msgs := slices.Clone(a.messages)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, listResponse{Messages: msgs, Sub: claims.Sub, Scopes: nonNil(claims.Scopes())})
}

func (a *API) post(w http.ResponseWriter, r *http.Request) {
	claims, _ := logto.AccessTokenFromContext(r.Context())
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, contentTypeJS) {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_request", "send application/json")
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request", "body too large")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_request", `body must be {"text":"..."}`)
		return
	}
	text, ok := cleanText(in.Text)
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid_request", "text must be 1 to 280 printable characters")
		return
	}
	a.mu.Lock()
	m := Message{ID: a.nextID, Text: text, Author: claims.Sub, CreatedAt: a.now().UTC().Truncate(time.Second)}
	a.nextID++
	a.messages = append(a.messages, m)
	if len(a.messages) > maxMessages {
		a.messages = slices.Delete(a.messages, 0, len(a.messages)-maxMessages)
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]Message{"message": m})
}

func (a *API) listOrganization(w http.ResponseWriter, r *http.Request) {
	claims, _ := logto.AccessTokenFromContext(r.Context())
	id := r.PathValue("id")
	msgs := []Message{{ID: 1, Text: "Welcome, members of " + id + "!", Author: authorAPI, CreatedAt: a.now().UTC().Truncate(time.Second)}}
	writeJSON(w, http.StatusOK, listResponse{OrganizationID: id, Messages: msgs, Sub: claims.Sub, Scopes: nonNil(claims.Scopes())})
}

// cleanText trims s and accepts 1 to maxTextRunes printable characters.
func cleanText(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxTextRunes {
		return "", false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return "", false
		}
	}
	return s, true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", contentTypeJS)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in the ResourceServer's error shape.
func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}
