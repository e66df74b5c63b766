package logtotest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"strings"
)

// Sign signs an arbitrary JWT with the current key (ECDSA P-384, SHA-384).
// header "alg" defaults to "ES384" and "kid" to the current key ID when
// absent; values that are present are kept, so tests can mint tokens whose
// header lies. header and claims are not modified.
func (p *Provider) Sign(header, claims map[string]any) (string, error) {
	return signJWT(p.currentKey(), header, claims)
}

func signJWT(k *signingKey, header, claims map[string]any) (string, error) {
	h := maps.Clone(header)
	if h == nil {
		h = map[string]any{}
	}
	if _, ok := h["alg"]; !ok {
		h["alg"] = "ES384"
	}
	if _, ok := h["kid"]; !ok {
		h["kid"] = k.kid
	}
	return signRaw(k, h, claims)
}

// signRaw signs header and claims as given.
func signRaw(k *signingKey, header, claims map[string]any) (string, error) {
	if header == nil {
		header = map[string]any{}
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	if claims == nil {
		claims = map[string]any{}
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	digest := sha512.Sum384([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	return input + "." + b64.EncodeToString(sig), nil
}

var errBadJWT = errors.New("invalid JWT")

// verifyJWT checks an ES384 compact JWS against keys and returns its claims.
func verifyJWT(keys []*signingKey, token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errBadJWT
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errBadJWT
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &header) != nil || header.Alg != "ES384" {
		return nil, errBadJWT
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 96 {
		return nil, errBadJWT
	}
	digest := sha512.Sum384([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])
	ok := false
	for _, k := range keys {
		if header.Kid != "" && header.Kid != k.kid {
			continue
		}
		if ecdsa.Verify(&k.priv.PublicKey, digest[:], r, s) {
			ok = true
			break
		}
	}
	if !ok {
		return nil, errBadJWT
	}
	cb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errBadJWT
	}
	var claims map[string]any
	if json.Unmarshal(cb, &claims) != nil || claims == nil {
		return nil, errBadJWT
	}
	return claims, nil
}

// looksLikeJWT reports whether token has the compact JWS shape.
func looksLikeJWT(token string) bool {
	return strings.Count(token, ".") == 2
}
