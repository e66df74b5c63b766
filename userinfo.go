package logto

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// FetchUserInfo asks Logto's userinfo endpoint (/oidc/me) about the signed-in
// user with the default access token (refreshed if needed, like
// [Client.GetAccessToken]). The answer is used only if its sub equals the ID
// token's (OpenID Connect Core 5.3.2); otherwise the error matches
// [ErrProviderResponse] with Reason "sub".
func (c *Client) FetchUserInfo(w http.ResponseWriter, r *http.Request) (*UserInfo, error) {
	var ui *UserInfo
	err := c.sessionOp(w, r, func(ctx context.Context, p *provider, sess *session) (bool, error) {
		var changed bool
		var err error
		ui, changed, err = c.userInfo(ctx, p, sess)
		return changed, err
	})
	return ui, err
}

func (c *Client) userInfo(ctx context.Context, p *provider, sess *session) (*UserInfo, bool, error) {
	p, err := c.ensureProvider(ctx, p)
	if err != nil {
		return nil, false, err
	}
	if p.userinfoEndpoint == "" {
		return nil, false, &ProviderError{Stage: "userinfo", Reason: ReasonDiscovery, Err: errors.New("no userinfo_endpoint")}
	}
	at, changed, err := c.tokenFor(ctx, p, sess, "", "")
	if err != nil {
		return nil, changed, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.httpTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.userinfoEndpoint, nil)
	if err != nil {
		return nil, changed, &ProviderError{Stage: "userinfo", Reason: ReasonNetwork, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+at.Token) // RFC 6750 2.1, never in the URL
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, changed, providerFailure("userinfo", err, ReasonNetwork)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, changed, providerFailure("userinfo", err, ReasonInvalidJSON)
	}
	if resp.StatusCode != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		return nil, changed, &ProviderError{Stage: "userinfo", Reason: ReasonHTTPStatus, StatusCode: resp.StatusCode, Code: oe.Error, Description: oe.Description}
	}
	var ui UserInfo
	if err := json.Unmarshal(body, &ui); err != nil {
		return nil, changed, &ProviderError{Stage: "userinfo", Reason: ReasonInvalidJSON, Err: errors.New("userinfo is not a JSON object of claims")}
	}
	if ui.Sub == "" || ui.Sub != sess.identity().Sub {
		return nil, changed, &ProviderError{Stage: "userinfo", Reason: ReasonSubject, Err: errors.New("userinfo sub does not match the ID token")}
	}
	return &ui, changed, nil
}
