package logto

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func testSession(t testing.TB) *session {
	t.Helper()
	payload := `{"iss":"http://localhost:3001/oidc","sub":"kadn9z5lgqvv","aud":"app","exp":1795522572,"iat":1795518972,"nonce":"n","name":"Probe User","picture":null,"roles":["a","b"],"custom":{"x":[1,2]}}`
	idToken := joinJWT([]byte(`{"alg":"ES384","kid":"k"}`), []byte(payload), []byte(strings.Repeat("s", 96)))
	at := joinJWT([]byte(`{"alg":"ES384","kid":"k","typ":"at+jwt"}`), []byte(`{"aud":"https://api.example.com","scope":"read"}`), []byte(strings.Repeat("t", 96)))
	return &session{
		IDToken: idToken, RefreshToken: "refresh-token-0123456789",
		AccessTokens: map[string]accessTokenEntry{
			"@":                        {Token: "opaque-0123456789", Scope: "openid profile", ExpiresAt: 1795522572},
			"@https://api.example.com": {Token: at, Scope: "read", ExpiresAt: 1795522573},
			"@#org1":                   {Token: "not.canonical==.jwt", Scope: "", ExpiresAt: 1},
		},
		CreatedAt: 1795518972123, ExpiresAt: 1796728572,
	}
}

func TestSessionCodecRoundTrip(t *testing.T) {
	t.Parallel()
	in := testSession(t)
	record, err := encodeSession(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeSession(record)
	if err != nil {
		t.Fatal(err)
	}
	if out.identity().Sub != "kadn9z5lgqvv" || out.scopeOfDefaultToken() != "openid profile" || out.CreatedAt != in.CreatedAt || out.ExpiresAt != in.ExpiresAt {
		t.Fatalf("header: %+v", out)
	}
	// Re-encoding an unexpanded session reuses its bytes.
	again, _ := encodeSession(out)
	if string(again) != string(record) {
		t.Fatal("unexpanded session re-encoded differently")
	}
	if err := out.expand(); err != nil {
		t.Fatal(err)
	}
	if out.IDToken != in.IDToken || out.RefreshToken != in.RefreshToken || !reflect.DeepEqual(out.AccessTokens, in.AccessTokens) {
		t.Fatalf("tokens differ:\n%+v\n%+v", out.AccessTokens, in.AccessTokens)
	}
	if extra := out.identity().Extra(); extra["custom"] == nil {
		t.Fatalf("Extra = %v", extra)
	}
}

func TestSessionCodecRejectsGarbage(t *testing.T) {
	t.Parallel()
	record, _ := encodeSession(testSession(t))
	for i := 0; i < len(record); i++ {
		if _, err := decodeSession(record[:i]); err == nil && i < len(record)-1 {
			s, _ := decodeSession(record[:i])
			if s.expand() == nil {
				t.Fatalf("truncated record (%d of %d bytes) decoded and expanded", i, len(record))
			}
		}
	}
}

// FuzzSessionRecord: no record panics the decoder; what decodes expands or
// fails cleanly, and re-encodes to something that decodes the same.
func FuzzSessionRecord(f *testing.F) {
	record, _ := encodeSession(testSession(f))
	f.Add(record)
	f.Add([]byte{2, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decodeSession(b)
		if err != nil {
			return
		}
		if s.expand() != nil {
			return
		}
		again, err := encodeSession(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := decodeSession(again)
		if err != nil || s2.expand() != nil || s2.RefreshToken != s.RefreshToken || len(s2.AccessTokens) != len(s.AccessTokens) {
			t.Fatalf("re-encoded record does not round-trip: %v", err)
		}
	})
}

// FuzzClaimsParser: the fast claims parser agrees with encoding/json.
func FuzzClaimsParser(f *testing.F) {
	for _, s := range []string{
		`{"iss":"i","sub":"s","aud":"a","exp":1,"iat":2,"picture":null,"roles":["x"],"email_verified":true}`,
		`{"sub":"a\u0041","aud":["a","b"],"x":{"y":[1,{"z":"\""}]}}`,
		`{"sub":1}`, `{"exp":1.5}`, `{"exp":1e3}`, `{"roles":[1]}`, `{"SUB":"x"}`, `{"sub":"x","sub":"y"}`, `[]`, `{}`, ` {"sub" : "x" } `,
		`{"email_verified":"true"}`, `{"aud":null}`, `{"roles":null}`, `{"exp":-0}`, `{"exp":01}`,
		`{"sub":"u","x":{1 :2}}`, `{"sub":"u","x":[{"a":1},{2:3}]}`, // non-string keys in nested objects: rejected, like encoding/json
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, fastOK := parseClaims(string(b), b)
		var ref IDTokenClaims
		refErr := json.Unmarshal(b, &ref)
		if fastOK && refErr != nil {
			t.Fatalf("fast parser accepted what encoding/json rejects (%v): %q", refErr, b)
		}
		if fastOK {
			fast.raw, ref.raw = nil, nil
			if !reflect.DeepEqual(fast, ref) {
				t.Fatalf("fast and encoding/json disagree on %q:\n%+v\n%+v", b, fast, ref)
			}
		}
		got, err := parseIDTokenClaims(b)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("parseIDTokenClaims error %v, encoding/json %v", err, refErr)
		}
		_ = got
	})
}
