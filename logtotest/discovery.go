package logtotest

import "net/http"

// discoveryDocument builds the document of logto-captures/discovery.json
// for this provider's URL. It is built fresh for every request, so hooks
// may modify it.
func (p *Provider) discoveryDocument() map[string]any {
	o := p.issuer
	return map[string]any{
		"issuer":                                         o,
		"authorization_endpoint":                         o + "/auth",
		"token_endpoint":                                 o + "/token",
		"userinfo_endpoint":                              o + "/me",
		"jwks_uri":                                       o + "/jwks",
		"end_session_endpoint":                           o + "/session/end",
		"revocation_endpoint":                            o + "/token/revocation",
		"introspection_endpoint":                         o + "/token/introspection",
		"device_authorization_endpoint":                  o + "/device/auth",
		"pushed_authorization_request_endpoint":          o + "/request",
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
		"claims_parameter_supported":                     false,
		"request_uri_parameter_supported":                false,
		"claim_types_supported":                          []string{"normal"},
		"code_challenge_methods_supported":               []string{"S256"},
		"grant_types_supported": []string{
			"implicit", "authorization_code", "refresh_token", "client_credentials",
			"urn:ietf:params:oauth:grant-type:device_code",
			"urn:ietf:params:oauth:grant-type:token-exchange",
		},
		"id_token_signing_alg_values_supported": []string{"ES384"},
		"response_modes_supported":              []string{"form_post", "fragment", "query"},
		"response_types_supported":              []string{"code id_token", "code", "id_token", "none"},
		"scopes_supported":                      append([]string(nil), supportedScopes...),
		"subject_types_supported":               []string{"public"},
		"token_endpoint_auth_methods_supported": []string{
			"client_secret_basic", "client_secret_jwt", "client_secret_post", "private_key_jwt", "none",
		},
		"token_endpoint_auth_signing_alg_values_supported": []string{
			"HS256", "RS256", "PS256", "ES256", "Ed25519", "EdDSA",
		},
		"claims_supported": []string{
			"sub", "name", "family_name", "given_name", "middle_name", "nickname",
			"preferred_username", "profile", "picture", "website", "gender", "birthdate",
			"zoneinfo", "locale", "updated_at", "username", "created_at", "email",
			"email_verified", "phone_number", "phone_number_verified", "address",
			"custom_data", "identities", "sso_identities", "roles", "organizations",
			"organization_data", "organization_roles", "sid", "auth_time", "iss",
		},
	}
}

// handleDiscovery serves both well-known documents.
func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	doc := p.discoveryDocument()
	if h := p.hooks().Discovery; h != nil {
		h(doc)
	}
	writeJSON(w, http.StatusOK, doc)
}
