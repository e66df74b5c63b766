package logto_test

import (
	"fmt"
	"testing"

	"github.com/logto-go/logto"
)

func TestDisplayName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		claims logto.IDTokenClaims
		want   string
	}{
		{logto.IDTokenClaims{Sub: "u1", Name: "Ada", Username: "ada", PhoneNumber: "155", Email: "a@x"}, "Ada"},
		{logto.IDTokenClaims{Sub: "u1", Name: "  ", Username: "ada", PhoneNumber: "155"}, "ada"},
		{logto.IDTokenClaims{Sub: "u1", PhoneNumber: "15551234567", Email: "a@x"}, "15551234567"},
		{logto.IDTokenClaims{Sub: "u1", Email: "a@example.com"}, "a@example.com"},
		{logto.IDTokenClaims{Sub: "u1"}, "u1"},
	} {
		if got := tc.claims.DisplayName(); got != tc.want {
			t.Errorf("DisplayName(%+v) = %q, want %q", tc.claims, got, tc.want)
		}
	}
}

// ExampleIDTokenClaims_DisplayName: a user who registered by phone has no
// name; the greeting falls back to the phone number.
func ExampleIDTokenClaims_DisplayName() {
	claims := logto.IDTokenClaims{Sub: "u9x2k", PhoneNumber: "15551234567"}
	fmt.Println("Hello,", claims.DisplayName())
	// Output: Hello, 15551234567
}
