// Package oauth is the SDK's one client for Logto's back-channel endpoints:
// the token endpoint (authorization code, refresh token and any later grant),
// revocation (RFC 7009) and userinfo. Every request is built one way
// (client_secret_basic with the RFC 6749 2.3.1 encoding, or client_id alone
// for a public client), every response body is read through one size cap,
// and every failure is one *Error, classified from the response's fields
// (status, RFC 6749 5.2 error, Logto's code), never from message text.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxBody caps every response body read from Logto.
const MaxBody = 1 << 20

// Kinds of Error, in the vocabulary of the SDK's public Reason type.
const (
	KindNetwork     = "network"
	KindTimeout     = "timeout"
	KindHTTPStatus  = "http_status" // an error status without an OAuth error
	KindOAuth       = "oauth_error" // an RFC 6749 5.2 error such as invalid_grant
	KindInvalidJSON = "invalid_json"
	KindTokenType   = "token_type"
)

// Error is a failed request. It never holds a token, code or secret: Code
// and Description are the provider's error fields.
type Error struct {
	Stage       string // "token", "revocation", "userinfo"
	Kind        string
	StatusCode  int
	Code        string // RFC 6749 error, e.g. "invalid_grant"
	Description string // error_description
	Err         error
}

// Error describes the failure by stage, kind, status and OAuth error.
func (e *Error) Error() string {
	s := "oauth: " + e.Stage + ": " + e.Kind
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the transport or decoding cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Client talks to the endpoints for one client. It is safe for concurrent use.
type Client struct {
	HTTP         *http.Client
	ClientID     string
	ClientSecret string // "" for a public client: client_id goes in the form
	Timeout      time.Duration
	Now          func() time.Time
}

// TokenResponse is a successful token endpoint answer (RFC 6749 5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Scope        string `json:"scope"`
	// IssuedAt is when the request was sent (unix seconds): expires_in
	// counts from there.
	IssuedAt int64 `json:"issued_at"`
}

// Token posts a grant request (form holds grant_type and its parameters)
// and returns the token response. A response without access_token or with
// a token_type other than Bearer is an error.
func (c *Client) Token(ctx context.Context, endpoint string, form url.Values) (*TokenResponse, error) {
	issued := c.Now().Unix()
	body, err := c.do(ctx, "token", c.formRequest(endpoint, form))
	if err != nil {
		return nil, err
	}
	var raw struct {
		AccessToken  string      `json:"access_token"`
		TokenType    string      `json:"token_type"`
		ExpiresIn    json.Number `json:"expires_in"`
		RefreshToken string      `json:"refresh_token"`
		IDToken      string      `json:"id_token"`
		Scope        string      `json:"scope"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.AccessToken == "" {
		return nil, &Error{Stage: "token", Kind: KindInvalidJSON, StatusCode: http.StatusOK, Err: errors.New("not a token response")}
	}
	if !strings.EqualFold(raw.TokenType, "bearer") {
		return nil, &Error{Stage: "token", Kind: KindTokenType, StatusCode: http.StatusOK, Err: errors.New("token_type is not Bearer")}
	}
	tr := &TokenResponse{
		AccessToken: raw.AccessToken, TokenType: raw.TokenType, RefreshToken: raw.RefreshToken,
		IDToken: raw.IDToken, Scope: raw.Scope, IssuedAt: issued,
	}
	if raw.ExpiresIn != "" {
		n, err := strconv.ParseInt(raw.ExpiresIn.String(), 10, 64)
		if err != nil || n < 0 {
			return nil, &Error{Stage: "token", Kind: KindInvalidJSON, StatusCode: http.StatusOK, Err: errors.New("expires_in is not a number of seconds")}
		}
		tr.ExpiresIn = n
	}
	return tr, nil
}

// Revoke revokes token (RFC 7009) with its type hint.
func (c *Client) Revoke(ctx context.Context, endpoint, token, hint string) error {
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	_, err := c.do(ctx, "revocation", c.formRequest(endpoint, form))
	return err
}

// UserInfo fetches the userinfo claims (OpenID Connect Core 5.3) with
// accessToken in the Authorization header (RFC 6750 2.1, never the URL) and
// returns the JSON body.
func (c *Client) UserInfo(ctx context.Context, endpoint, accessToken string) ([]byte, error) {
	return c.do(ctx, "userinfo", func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+accessToken)
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
}

// formRequest builds a POST with client authentication: client_secret_basic
// with both parts form-urlencoded first (RFC 6749 2.3.1), or client_id in
// the form for a public client.
func (c *Client) formRequest(endpoint string, form url.Values) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		if c.ClientSecret == "" {
			form = cloneWith(form, "client_id", c.ClientID)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		if c.ClientSecret != "" {
			req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
		}
		return req, nil
	}
}

func cloneWith(form url.Values, key, value string) url.Values {
	out := make(url.Values, len(form)+1)
	for k, v := range form {
		out[k] = v
	}
	out.Set(key, value)
	return out
}

// do sends one request and returns the body of a 200 answer, or an *Error.
func (c *Client) do(ctx context.Context, stage string, build func(context.Context) (*http.Request, error)) ([]byte, error) {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := build(ctx)
	if err != nil {
		return nil, &Error{Stage: stage, Kind: KindNetwork, Err: err}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, transportError(stage, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		if e := transportError(stage, err); e.Kind == KindTimeout {
			return nil, e
		}
		return nil, &Error{Stage: stage, Kind: KindInvalidJSON, StatusCode: resp.StatusCode, Err: errors.New("unreadable body")}
	}
	if len(body) > MaxBody {
		return nil, &Error{Stage: stage, Kind: KindInvalidJSON, StatusCode: resp.StatusCode, Err: errors.New("response body too large")}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(stage, resp.StatusCode, body)
	}
	return body, nil
}

// statusError classifies an error answer by its fields: the RFC 6749 5.2
// error, else Logto's "code" ("oidc.invalid_grant"), else the status alone.
func statusError(stage string, status int, body []byte) *Error {
	var oe struct {
		Error       any `json:"error"`
		Description any `json:"error_description"`
		LogtoCode   any `json:"code"`
	}
	_ = json.Unmarshal(body, &oe)
	code, _ := oe.Error.(string)
	if lc, ok := oe.LogtoCode.(string); ok && code == "" {
		code, _ = strings.CutPrefix(lc, "oidc.")
		if code == lc {
			code = "" // a Logto code outside the OIDC namespace is not an OAuth error
		}
	}
	desc, _ := oe.Description.(string)
	e := &Error{Stage: stage, Kind: KindHTTPStatus, StatusCode: status, Code: code, Description: desc}
	if code != "" {
		e.Kind = KindOAuth
	}
	return e
}

func transportError(stage string, err error) *Error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return &Error{Stage: stage, Kind: KindTimeout, Err: err}
	}
	return &Error{Stage: stage, Kind: KindNetwork, Err: err}
}
