package logto

import (
	"errors"

	"github.com/logto-go/logto/internal/oauth"
)

// Every call to Logto's token, revocation and userinfo endpoints goes
// through one internal/oauth client, and every JWT through one
// internal/jwt verifier (see [provider]); this file maps their errors onto
// the package's [ProviderError].

// endpointError turns a failure of the oauth client into a *ProviderError
// with the same stage, status and OAuth error fields. Nothing of the
// response body but the error code and description is kept: it may echo
// what was sent.
func endpointError(err error) error {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return providerFailure("token", err, ReasonNetwork)
	}
	// The kinds are the names of the matching Reasons (network, timeout,
	// http_status, oauth_error, invalid_json, token_type).
	return &ProviderError{
		Stage: oe.Stage, Reason: Reason(oe.Kind), StatusCode: oe.StatusCode,
		Code: oe.Code, Description: oe.Description, Err: oe.Err,
	}
}
