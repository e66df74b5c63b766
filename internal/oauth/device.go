package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Errors of the device access token request (RFC 8628 section 3.5), in
// Error.Code.
const (
	CodeAuthorizationPending = "authorization_pending"
	CodeSlowDown             = "slow_down"
	CodeAccessDenied         = "access_denied"
	CodeExpiredToken         = "expired_token"
)

// GrantTypeDeviceCode is the grant_type of the device access token request.
const GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// DeviceAuthorization is a device authorization response (RFC 8628
// section 3.2). DeviceCode is a credential: it never appears in an error or
// a log.
type DeviceAuthorization struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // optional
	ExpiresIn               int64  // seconds
	Interval                int64  // seconds; 0 when the server sent none
	// IssuedAt is when the request was sent (unix seconds): expires_in
	// counts from there.
	IssuedAt int64
}

// DeviceAuthorize posts a device authorization request (RFC 8628 section
// 3.1) with the client's authentication (client_id in the form for a public
// client) and returns the response. A response without device_code,
// user_code, verification_uri or a positive expires_in is an error, and so
// is a verification URI that is not an absolute http(s) URL: it is shown to
// the user.
func (c *Client) DeviceAuthorize(ctx context.Context, endpoint string, form url.Values) (*DeviceAuthorization, error) {
	const stage = "device_authorization"
	issued := c.Now().Unix()
	body, err := c.do(ctx, stage, c.formRequest(endpoint, form))
	if err != nil {
		return nil, err
	}
	bad := func(why string) error {
		return &Error{Stage: stage, Kind: KindInvalidJSON, StatusCode: http.StatusOK, Err: errors.New(why)}
	}
	var raw struct {
		DeviceCode              string      `json:"device_code"`
		UserCode                string      `json:"user_code"`
		VerificationURI         string      `json:"verification_uri"`
		VerificationURIComplete string      `json:"verification_uri_complete"`
		ExpiresIn               json.Number `json:"expires_in"`
		Interval                json.Number `json:"interval"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, bad("not a device authorization response")
	}
	if raw.DeviceCode == "" || raw.UserCode == "" || raw.VerificationURI == "" {
		return nil, bad("device_code, user_code or verification_uri missing")
	}
	if len(raw.UserCode) > 64 || strings.ContainsFunc(raw.UserCode, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, bad("user_code is not a short printable code")
	}
	if !webURL(raw.VerificationURI) || raw.VerificationURIComplete != "" && !webURL(raw.VerificationURIComplete) {
		return nil, bad("verification_uri is not an absolute http(s) URL")
	}
	seconds := func(n json.Number) (int64, bool) {
		if n == "" {
			return 0, true
		}
		v, err := strconv.ParseInt(n.String(), 10, 64)
		return v, err == nil && v >= 0 && v <= 1<<31
	}
	expires, ok := seconds(raw.ExpiresIn)
	if !ok || expires == 0 {
		return nil, bad("expires_in is not a positive number of seconds")
	}
	interval, ok := seconds(raw.Interval)
	if !ok {
		return nil, bad("interval is not a number of seconds")
	}
	return &DeviceAuthorization{
		DeviceCode: raw.DeviceCode, UserCode: raw.UserCode,
		VerificationURI: raw.VerificationURI, VerificationURIComplete: raw.VerificationURIComplete,
		ExpiresIn: expires, Interval: interval, IssuedAt: issued,
	}, nil
}

// webURL reports whether s is an absolute http(s) URL without user info.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil &&
		!strings.ContainsAny(s, " \t\r\n")
}
