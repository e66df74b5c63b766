package logtotest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
)

// signingKey is one P-384 key with its published JWK fields.
type signingKey struct {
	priv *ecdsa.PrivateKey
	kid  string
	x, y string // base64url, 48 bytes each
}

var b64 = base64.RawURLEncoding

// newSigningKey wraps priv, which must be on P-384 (Logto's default EC key,
// giving ES384).
func newSigningKey(priv *ecdsa.PrivateKey) (*signingKey, error) {
	if priv == nil || priv.Curve != elliptic.P384() {
		return nil, errors.New("logtotest: signing key must be an ECDSA P-384 key")
	}
	pt, err := priv.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil || len(pt) != 97 {
		return nil, fmt.Errorf("logtotest: invalid signing key: %v", err)
	}
	k := &signingKey{priv: priv, x: b64.EncodeToString(pt[1:49]), y: b64.EncodeToString(pt[49:])}
	// RFC 7638 thumbprint: required members in lexical order, no spaces.
	sum := sha256.Sum256([]byte(`{"crv":"P-384","kty":"EC","x":"` + k.x + `","y":"` + k.y + `"}`))
	k.kid = b64.EncodeToString(sum[:])
	return k, nil
}

func generateSigningKey() (*signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("logtotest: generate signing key: %w", err)
	}
	return newSigningKey(priv)
}

// jwk is the public JWK as Logto publishes it.
func (k *signingKey) jwk() map[string]any {
	return map[string]any{
		"kty": "EC", "use": "sig", "kid": k.kid, "alg": "ES384",
		"crv": "P-384", "x": k.x, "y": k.y,
	}
}

// RotateSigningKey makes a new P-384 key current. The old current key stays
// published in the JWKS as Logto's "Previous" key; an older previous key is
// dropped, as Logto keeps at most one.
func (p *Provider) RotateSigningKey() error {
	k, err := generateSigningKey()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = []*signingKey{k, p.keys[0]}
	return nil
}

// RemovePreviousKeys stops publishing every key but the current one.
func (p *Provider) RemovePreviousKeys() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keys = p.keys[:1:1]
}

// CurrentKeyID returns the kid of the key that signs tokens now.
func (p *Provider) CurrentKeyID() string {
	return p.currentKey().kid
}

func (p *Provider) currentKey() *signingKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[0]
}

func (p *Provider) publishedKeys() []*signingKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*signingKey(nil), p.keys...)
}

// handleJWKS serves GET /oidc/jwks: current key first, then previous.
func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	keys := p.publishedKeys()
	set := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		set = append(set, k.jwk())
	}
	if h := p.hooks().JWKS; h != nil {
		set = h(set)
	}
	if set == nil {
		set = []map[string]any{}
	}
	w.Header().Set("Cache-Control", "no-cache, max-age=0, must-revalidate")
	writeJSON(w, http.StatusOK, map[string]any{"keys": set})
}
