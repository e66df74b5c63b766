package logto

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// What an M2M hands out: the token, an HTTP client that sends it, and the
// golang.org/x/oauth2 view of it.

// M2MToken is an access token issued to a Machine-to-machine app. Its
// String, GoString, LogValue and MarshalJSON leave AccessToken out, so it
// can be printed, logged or encoded safely.
type M2MToken struct {
	// AccessToken is the token to send as "Authorization: Bearer <token>"
	// (see [M2MToken.SetAuthHeader]): a JWT (RFC 9068 at+jwt) with aud the
	// resource or the organization URN, sub and client_id the app ID.
	AccessToken string
	// TokenType is "Bearer".
	TokenType string
	// Scopes are the scopes Logto granted: the requested ones the app's
	// roles grant.
	Scopes []string
	// Expiry is when the token expires, from Logto's expires_in; zero if
	// Logto sent none.
	Expiry time.Time
}

// SetAuthHeader sets the Authorization header of r to the token.
func (t *M2MToken) SetAuthHeader(r *http.Request) {
	r.Header.Set("Authorization", "Bearer "+t.AccessToken)
}

// String describes the token without its value.
func (t M2MToken) String() string {
	return fmt.Sprintf("logto.M2MToken{AccessToken:%s, Scopes:%q, Expiry:%s}",
		redacted(t.AccessToken), t.Scopes, t.Expiry.Format(time.RFC3339))
}

// GoString describes the token like String, for %#v.
func (t M2MToken) GoString() string { return t.String() }

// LogValue describes the token for log/slog without its value.
func (t M2MToken) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("access_token", t.AccessToken != ""),
		slog.Any("scopes", t.Scopes),
		slog.Time("expiry", t.Expiry),
	)
}

// MarshalJSON encodes the token without its value: {"token_type",
// "scope", "expiry"}. An M2M token is not worth persisting (a new one is a
// request away); read AccessToken to send it.
func (t M2MToken) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TokenType string    `json:"token_type"`
		Scope     string    `json:"scope"`
		Expiry    time.Time `json:"expiry,omitzero"`
	}{t.TokenType, strings.Join(t.Scopes, " "), t.Expiry})
}

func (t M2MToken) clone() *M2MToken {
	t.Scopes = slices.Clone(t.Scopes)
	return &t
}

// TokenSource returns the M2M as an [oauth2.TokenSource], for code built on
// golang.org/x/oauth2 (oauth2.NewClient, gRPC's oauth credentials, Google
// API clients). ctx bounds every Token call of the source: use one that
// lives as long as the source (not a request's). The source already caches
// and renews; wrapping it in oauth2.ReuseTokenSource adds nothing. The
// token's Extra("scope") holds the granted scopes.
func (m *M2M) TokenSource(ctx context.Context) oauth2.TokenSource {
	return m2mTokenSource{ctx: ctx, m: m}
}

type m2mTokenSource struct {
	ctx context.Context
	m   *M2M
}

func (s m2mTokenSource) Token() (*oauth2.Token, error) {
	t, err := s.m.Token(s.ctx)
	if err != nil {
		return nil, err
	}
	tok := &oauth2.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}
	return tok.WithExtra(map[string]any{"scope": strings.Join(t.Scopes, " ")}), nil
}

// Client returns an HTTP client that sends the app's token to an API as
// "Authorization: Bearer <token>", getting it with [M2M.Token] under each
// request's context. It is a copy of base (nil: a client with a 10 s
// timeout) whose transport adds the header. A redirect to another origin
// (scheme and host) is followed without the token. When no token can be
// had, the request is not sent and the client's error wraps Token's.
func (m *M2M) Client(base *http.Client) *http.Client {
	c := http.Client{Timeout: defaultHTTPTimeout}
	if base != nil {
		c = *base
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = &m2mTransport{m: m, base: rt}
	return &c
}

// m2mTransport adds the M2M token to requests.
type m2mTransport struct {
	m    *M2M
	base http.RoundTripper
}

func (t *m2mTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	if !strings.EqualFold(first.URL.Scheme, req.URL.Scheme) || !strings.EqualFold(first.URL.Host, req.URL.Host) {
		return t.base.RoundTrip(req) // redirected elsewhere: no token
	}
	tok, err := t.m.Token(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	tok.SetAuthHeader(r)
	return t.base.RoundTrip(r)
}
