package claimsparse_test

import (
	"encoding/json"
	"testing"

	"github.com/logto-go/logto/internal/claimsparse"
)

// TestParseNeverAcceptsWhatJSONRejects: inputs encoding/json refuses are
// declined (the SDK's FuzzClaimsParser compares the two on every input).
func TestParseNeverAcceptsWhatJSONRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		`{"sub":"u","x":{1 :2}}`, `{"sub":"u","x":[{"a":1},{2:3}]}`, `{"sub":"u",}`, `{"sub":"u"`,
		`{"sub":'u'}`, `{"exp":01}`, "{\"sub\":\"\x01\"}", `{"sub":"u"} x`,
	} {
		var v any
		if json.Unmarshal([]byte(s), &v) == nil {
			t.Fatalf("%q: encoding/json accepts it; pick another case", s)
		}
		if _, ok := claimsparse.Parse(s); ok {
			t.Errorf("%q: accepted, encoding/json rejects it", s)
		}
	}
	c, ok := claimsparse.Parse(`{"iss":"i","sub":"s","aud":"a","exp":1,"roles":["r"],"picture":null,"email_verified":true}`)
	if !ok || c.Sub != "s" || len(c.Aud) != 1 || c.Aud[0] != "a" || c.Exp != 1 || len(c.Roles) != 1 || !c.EmailVerified {
		t.Fatalf("Logto's shape: %+v %v", c, ok)
	}
}
