// Command refsession writes the reference session shared by every benchmark
// in bench/: the tokens a browser signed in to Logto carries, shaped like the
// captures in the shared reference (logto-captures/password-*):
//
//   - an ES384 ID token with the claims of password-id_token.decoded.json;
//   - a 43-character opaque refresh token;
//   - the opaque default access token (key "@", 43 characters);
//   - three JWT access tokens (typ at+jwt) for https://api{1,2,3}.probe.local
//     with the claims of password-access_token.resource.decoded.json and
//     scope "read:probe write:probe".
//
// All JWTs are signed by one P-384 key derived deterministically from -seed
// (the file also carries it, as a private JWK, and its public JWKS), issuer
// http://localhost:3001/oidc, app ID upsf6nkhsozbghw46l81k. Expiries are ten
// years after -now, so the session stays valid.
//
//	go run ./bench/refsession -out bench/testdata/reference-session.json
//
// It also prints the size of @logto/next's SessionData JSON for the session
// (the plaintext its cookie encrypts) and the cookie size that implies.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/logto-go/logto/logtotest"
)

const (
	appID        = "upsf6nkhsozbghw46l81k"
	endpoint     = "http://localhost:3001"
	cookieSecret = "logto-go-bench-reference-cookie-secret-0001" // fixed, 43 characters
	subject      = "kadn9z5lgqvv"
	resourceTmpl = "https://api%d.probe.local"
	nResources   = 3
	apiScope     = "read:probe write:probe"
	defaultScope = "openid offline_access profile email phone"
)

// AccessToken is one entry of @logto/next's access-token map.
type AccessToken struct {
	Token     string `json:"token"`
	Scope     string `json:"scope"`
	ExpiresAt int64  `json:"expiresAt"`
}

// Reference is the file format (bench/testdata/reference-session.json).
type Reference struct {
	Comment      string                 `json:"comment"`
	AppID        string                 `json:"appId"`
	Endpoint     string                 `json:"endpoint"`
	Issuer       string                 `json:"issuer"`
	CookieSecret string                 `json:"cookieSecret"`
	IDToken      string                 `json:"idToken"`
	RefreshToken string                 `json:"refreshToken"`
	AccessTokens map[string]AccessToken `json:"accessTokens"`
	JWKS         json.RawMessage        `json:"jwks"`
	SigningKey   map[string]string      `json:"signingKey"`
	Seed         string                 `json:"seed"`
	IssuedAt     int64                  `json:"issuedAt"`
}

func main() {
	out := flag.String("out", "bench/testdata/reference-session.json", "output file")
	seed := flag.String("seed", "logto-go bench reference session v1", "seed of the signing key and the opaque tokens")
	nowFlag := flag.Int64("now", 0, "iat in unix seconds (default: now)")
	flag.Parse()
	log.SetFlags(0)

	now := time.Now().UTC().Truncate(time.Second)
	if *nowFlag != 0 {
		now = time.Unix(*nowFlag, 0).UTC()
	}
	exp := now.AddDate(10, 0, 0)

	key, err := deriveKey(*seed)
	if err != nil {
		log.Fatal(err)
	}
	p, err := logtotest.New(logtotest.Options{URL: endpoint, SigningKey: key, Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	kid := p.CurrentKeyID()
	issuer := p.Issuer()

	// ID token: the claims of password-id_token.decoded.json.
	createdAt := now.Add(-133 * time.Second).UnixMilli()
	idToken, err := p.Sign(map[string]any{"alg": "ES384", "kid": kid}, map[string]any{
		"aud":                   appID,
		"created_at":            createdAt,
		"email":                 "probe@example.com",
		"email_verified":        true,
		"exp":                   exp.Unix(),
		"iat":                   now.Unix(),
		"iss":                   issuer,
		"name":                  "Probe User",
		"nonce":                 opaque(*seed, "nonce", 16), // 22 characters, as in the capture
		"phone_number":          "15551234567",
		"phone_number_verified": true,
		"picture":               nil,
		"preferred_username":    "probeuser",
		"sub":                   subject,
		"updated_at":            now.Add(-time.Second).UnixMilli(),
		"username":              "probeuser",
	})
	if err != nil {
		log.Fatal(err)
	}

	tokens := map[string]AccessToken{
		"@": {Token: opaque(*seed, "access_token@", 32), Scope: defaultScope, ExpiresAt: exp.Unix()},
	}
	for i := 1; i <= nResources; i++ {
		resource := fmt.Sprintf(resourceTmpl, i)
		at, err := p.Sign(map[string]any{"alg": "ES384", "kid": kid, "typ": "at+jwt"}, map[string]any{
			"aud":       resource,
			"client_id": appID,
			"exp":       exp.Unix(),
			"iat":       now.Unix(),
			"iss":       issuer,
			"jti":       opaque(*seed, "jti@"+resource, 32),
			"scope":     apiScope,
			"sub":       subject,
		})
		if err != nil {
			log.Fatal(err)
		}
		tokens["@"+resource] = AccessToken{Token: at, Scope: apiScope, ExpiresAt: exp.Unix()}
	}

	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, endpoint+"/oidc/jwks", nil))
	if rec.Code != http.StatusOK {
		log.Fatalf("jwks: status %d", rec.Code)
	}
	var jwks bytes.Buffer
	if err := json.Indent(&jwks, bytes.TrimSpace(rec.Body.Bytes()), "", "  "); err != nil {
		log.Fatal(err)
	}

	raw, _ := key.Bytes()
	pub, _ := key.PublicKey.Bytes() // 0x04 || X || Y
	b64 := base64.RawURLEncoding.EncodeToString
	ref := Reference{
		Comment:      "Generated by `go run ./bench/refsession`; test-only key and tokens, shaped like shared/reference/logto-captures/password-*.",
		AppID:        appID,
		Endpoint:     endpoint,
		Issuer:       issuer,
		CookieSecret: cookieSecret,
		IDToken:      idToken,
		RefreshToken: opaque(*seed, "refresh_token", 32),
		AccessTokens: tokens,
		JWKS:         jwks.Bytes(),
		SigningKey: map[string]string{
			"kty": "EC", "crv": "P-384", "alg": "ES384", "use": "sig", "kid": kid,
			"x": b64(pub[1:49]), "y": b64(pub[49:]), "d": b64(raw),
		},
		Seed:     *seed,
		IssuedAt: now.Unix(),
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(ref); err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}

	fmt.Printf("wrote %s\n", *out)
	fmt.Printf("  kid %s, iat %d, exp %d\n", kid, now.Unix(), exp.Unix())
	fmt.Printf("  idToken %d chars, refreshToken %d chars\n", len(ref.IDToken), len(ref.RefreshToken))
	for _, k := range slices.Sorted(maps.Keys(tokens)) {
		fmt.Printf("  accessTokens[%q] %d chars\n", k, len(tokens[k].Token))
	}
	sd := sessionData(ref)
	name, value := nextCookie(ref.CookieSecret, sd)
	fmt.Printf("@logto/next SessionData JSON: %d bytes\n", len(sd))
	fmt.Printf("@logto/next cookie (this encryption, one random IV): %d bytes as name=value (value %d bytes URL-encoded); over 4096: %v\n",
		len(name)+1+len(value), len(value), len(name)+1+len(value) > 4096)
}

// sessionData is the plaintext @logto/next encrypts into its cookie after a
// callback and three resource-token fetches: SessionData with the keys in the
// order CookieStorage receives them, accessToken double-encoded.
func sessionData(ref Reference) []byte {
	m, _ := marshal(ref.AccessTokens)
	sd := struct {
		RefreshToken string `json:"refreshToken"`
		IDToken      string `json:"idToken"`
		AccessToken  string `json:"accessToken"`
	}{ref.RefreshToken, ref.IDToken, string(m)}
	b, _ := marshal(sd)
	return b
}

// nextCookie seals data the way @logto/node's wrapSession does and returns
// the cookie name and URL-encoded value.
func nextCookie(secret string, data []byte) (string, string) {
	k := sha256.Sum256([]byte(secret))
	block, _ := aes.NewCipher(k[:])
	gcm, _ := cipher.NewGCM(block)
	iv := make([]byte, 12)
	ct := gcm.Seal(nil, iv, data, nil) // length does not depend on the IV
	v := base64.StdEncoding.EncodeToString(ct) + "." + base64.StdEncoding.EncodeToString(iv)
	// encodeURIComponent leaves [A-Za-z0-9] and "." alone; +, / and = become %XX.
	v = strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D").Replace(v)
	return "logto_" + appID, v
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // like JSON.stringify
	err := enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// deriveKey derives a P-384 private key from seed: d = 1 + (H mod (n-1)),
// H being 64 bytes of SHA-512 output (the bias is negligible).
func deriveKey(seed string) (*ecdsa.PrivateKey, error) {
	h := sha512.Sum512([]byte("logto-go bench P-384 key\x00" + seed))
	n := elliptic.P384().Params().N
	d := new(big.Int).SetBytes(h[:])
	d.Mod(d, new(big.Int).Sub(n, big.NewInt(1)))
	d.Add(d, big.NewInt(1))
	return ecdsa.ParseRawPrivateKey(elliptic.P384(), d.FillBytes(make([]byte, 48)))
}

// opaque derives an n-byte base64url token (n=32: 43 characters, like Logto's
// opaque tokens) from seed and label.
func opaque(seed, label string, n int) string {
	h := sha256.Sum256([]byte(seed + "\x00" + label))
	return base64.RawURLEncoding.EncodeToString(h[:n])
}
