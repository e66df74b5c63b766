package logto

import (
	"net/http"
	"net/url"
)

// Input bounds. Everything that arrives from the network is measured before
// any work is done with it: no transaction lookup, no cookie write, no
// discovery, no call to Logto. The bounds are generous multiples of what Logto
// really sends, so only crafted or broken requests meet them. SECURITY.md
// lists them all.
const (
	// maxCallbackQuery bounds the callback's raw query string. Logto's
	// callback carries code, state and iss (about 200 bytes), or an error
	// with a short description.
	maxCallbackQuery = 16 << 10

	// maxCallbackParam bounds each OAuth parameter of the callback once
	// decoded: Logto's codes and states are 43 characters, iss is
	// <endpoint>/oidc, error descriptions are one sentence.
	maxCallbackParam = 4 << 10

	// maxBackChannelBody caps the body of a back-channel logout request.
	maxBackChannelBody = 64 << 10

	// maxLogoutToken bounds the logout_token parameter: Logto's are a
	// compact JWS of well under 2 KiB.
	maxLogoutToken = 16 << 10
)

// callbackParams are the callback parameters this package reads.
var callbackParams = [...]string{"state", "code", "iss", "error", "error_description", "error_uri"}

// checkCallbackInput parses the callback's query after checking its size. It
// runs before anything else in HandleSignIn, so an oversized or malformed
// callback is refused without touching the transaction (which stays usable
// by the genuine callback) or calling Logto.
func checkCallbackInput(r *http.Request) (url.Values, error) {
	if len(r.URL.RawQuery) > maxCallbackQuery {
		return nil, &CallbackError{Reason: ReasonParameterTooLarge}
	}
	// url.Values from r.URL.Query() silently drops pairs that do not
	// parse; a callback Logto built always parses.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &CallbackError{Reason: ReasonMalformedQuery}
	}
	for _, k := range callbackParams {
		for _, v := range q[k] {
			if len(v) > maxCallbackParam {
				return nil, &CallbackError{Reason: ReasonParameterTooLarge}
			}
		}
	}
	return q, nil
}
