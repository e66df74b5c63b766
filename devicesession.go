package logto

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"sync"

	"github.com/logto-go/logto/internal/seal"
)

// DeviceSession is a user signed in with [Device.SignIn]: the verified ID
// token's claims, and the tokens to get access tokens with. It refreshes
// like a web session: the same refresh grant with Logto's resource
// indicator, the rotated refresh token kept (and handed to
// DeviceConfig.OnSessionChange), the refreshed ID token verified to be the
// same user (OpenID Connect Core 12.2), and Logto's invalid_grant ends it.
//
// It is safe for concurrent use: concurrent calls that need a refresh make
// one token request. Its String and LogValue never show a token.
type DeviceSession struct {
	d *Device
	// refreshing serializes refreshes (a channel, so that waiting for it
	// honours the caller's context).
	refreshing chan struct{}

	mu    sync.Mutex // guards sess (replaced whole) and ended
	sess  *session   // expanded: tokens decoded
	ended bool
}

// deviceSessionName and purpose bind a sealed device session to its use
// and app.
const deviceSessionName = "logto_device_session"

func deviceSessionCodec(secret, appID string) (*seal.Codec, error) {
	if len(secret) < minCookieSecretLen {
		return nil, &ConfigError{"secret", fmt.Sprintf("must be at least %d characters", minCookieSecretLen)}
	}
	return seal.NewBinary([]string{secret}, "device-session|"+appID, 0)
}

func newDeviceSession(d *Device, sess *session) *DeviceSession {
	sess.identity()
	return &DeviceSession{d: d, refreshing: make(chan struct{}, 1), sess: sess}
}

// Claims returns the claims of the session's ID token (the latest one,
// after a refresh).
func (s *DeviceSession) Claims() IDTokenClaims {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sess.claims
}

// AccessToken returns an access token for the API resource indicator
// resource (RFC 8707), or the default token (for Logto's userinfo
// endpoint) when resource is "". A cached token is returned while it is
// valid for longer than DeviceConfig.AccessTokenRefreshMargin; otherwise it
// is refreshed with the session's refresh token, and OnSessionChange is
// called before the token is returned.
//
// resource must be in DeviceConfig.Resources ([ErrInvalidResource]
// otherwise). If Logto answers invalid_grant (the grant was revoked, the
// refresh token expired or was replayed) or the refreshed ID token is not
// this user's, the session is over: this and every later call return an
// error matching [ErrNotAuthenticated]; sign in again. A failure to reach
// Logto keeps the session. The refresh itself is not cut short by ctx
// (a rotated refresh token must not be lost), only the wait for another
// caller's refresh.
func (s *DeviceSession) AccessToken(ctx context.Context, resource string) (string, error) {
	if resource != "" && !slices.Contains(s.d.resources, resource) {
		return "", fmt.Errorf("%w: %q is not in DeviceConfig.Resources; Logto grants only resources requested at sign-in", ErrInvalidResource, resource)
	}
	key := accessTokenKey(resource, "")
	if tok, ok, err := s.cached(key); ok || err != nil {
		return tok, err
	}
	select {
	case s.refreshing <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.refreshing }()
	// Another caller may have refreshed while this one waited.
	if tok, ok, err := s.cached(key); ok || err != nil {
		return tok, err
	}
	s.mu.Lock()
	next := s.sess.clone()
	s.mu.Unlock()
	if next.RefreshToken == "" {
		return "", ErrNoRefreshToken
	}
	rctx := context.WithoutCancel(ctx)
	p, err := s.d.disc.get(rctx)
	if err != nil {
		return "", err
	}
	tr, err := s.d.refreshGrant(rctx, p, next.RefreshToken, resource)
	if err == nil {
		err = applyRefresh(rctx, p, s.d.cfg.AppID, next, key, tr)
	}
	if err != nil {
		if endsSession(err) {
			s.mu.Lock()
			s.ended = true
			s.mu.Unlock()
			s.d.cfg.Logger.Info("logto: device session ended by the provider", "err", err.Error())
			return "", &sessionEndedError{err}
		}
		return "", err
	}
	s.mu.Lock()
	s.sess = next
	s.mu.Unlock()
	if err := s.saved(rctx); err != nil {
		return "", err
	}
	return next.AccessTokens[key].Token, nil
}

// cached returns the cached token for key when it is fresh enough; ok is
// false when a refresh is needed. An ended session is an error.
func (s *DeviceSession) cached(key string) (tok string, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return "", false, errDeviceSessionEnded
	}
	e, found := s.sess.AccessTokens[key]
	if found && s.d.cfg.Now().Add(s.d.cfg.AccessTokenRefreshMargin).Unix() < e.ExpiresAt {
		return e.Token, true, nil
	}
	return "", false, nil
}

// errDeviceSessionEnded: Logto ended the session earlier.
var errDeviceSessionEnded = fmt.Errorf("%w: the device session has ended; sign in again", ErrNotAuthenticated)

// saved hands the session to OnSessionChange.
func (s *DeviceSession) saved(ctx context.Context) error {
	if s.d.cfg.OnSessionChange == nil {
		return nil
	}
	if err := s.d.cfg.OnSessionChange(ctx, s); err != nil {
		return fmt.Errorf("logto: DeviceConfig.OnSessionChange: %w", err)
	}
	return nil
}

// refreshGrant is the web session's refresh request (refresh.go) with the
// device app's public client: client_id in the form.
func (d *Device) refreshGrant(ctx context.Context, p *provider, refreshToken, resource string) (*tokenResponse, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if resource != "" {
		form["resource"] = []string{resource}
	}
	tr, err := d.oauth.Token(ctx, p.tokenEndpoint, form)
	if err != nil {
		return nil, endpointError(err)
	}
	return tr, nil
}

// Seal encrypts and authenticates the session with secret (at least 32
// characters), with the web sessions' record format and cipher (AES-CTR
// and HMAC-SHA256 with keys derived by HKDF, bound to the app), for
// storage in a file or a keychain: the result holds the refresh token, so
// keep it private (a file with mode 0600). [Device.OpenSession] opens it.
func (s *DeviceSession) Seal(secret string) ([]byte, error) {
	codec, err := deviceSessionCodec(secret, s.d.cfg.AppID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	rec, err := encodeSession(s.sess)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	v, err := codec.Seal(deviceSessionName, rec)
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// OpenSession opens a session sealed by [DeviceSession.Seal] with secret for
// this app and issuer. A value that cannot be opened (another secret, app
// or issuer, tampered or truncated) is an error matching
// [ErrNotAuthenticated]: sign in again. The tokens are not checked with
// Logto here; the next refresh does that.
func (d *Device) OpenSession(secret string, sealed []byte) (*DeviceSession, error) {
	codec, err := deviceSessionCodec(secret, d.cfg.AppID)
	if err != nil {
		return nil, err
	}
	bad := fmt.Errorf("%w: the sealed device session cannot be opened (another secret, app or issuer, or damaged)", ErrNotAuthenticated)
	var rec []byte
	if err := codec.Open(deviceSessionName, string(sealed), &rec); err != nil {
		return nil, bad
	}
	sess, err := decodeSession(rec)
	if err != nil || sess.expand() != nil || sess.claims.Iss != d.issuer {
		return nil, bad
	}
	return newDeviceSession(d, sess), nil
}

// String describes the session without its tokens.
func (s *DeviceSession) String() string {
	c := s.Claims()
	return fmt.Sprintf("logto.DeviceSession{sub: %q}", c.Sub)
}

// LogValue keeps tokens out of logs.
func (s *DeviceSession) LogValue() slog.Value {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slog.GroupValue(
		slog.String("sub", s.sess.claims.Sub),
		slog.Int("access_tokens", len(s.sess.AccessTokens)),
		slog.Bool("refresh_token", s.sess.RefreshToken != ""),
		slog.Bool("ended", s.ended),
	)
}

// clone copies a session (expanded) for a refresh to work on.
func (sess *session) clone() *session {
	c := *sess
	c.AccessTokens = maps.Clone(sess.AccessTokens)
	return &c
}
