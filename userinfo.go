package logto

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// FetchUserInfo asks Logto's userinfo endpoint (/oidc/me) about the signed-in
// user with the default access token (refreshed if needed, like
// [Client.GetAccessToken]). The answer is used only if its sub equals the ID
// token's (OpenID Connect Core 5.3.2); otherwise the error matches
// [ErrProviderResponse] with Reason "sub".
func (c *Client) FetchUserInfo(w http.ResponseWriter, r *http.Request) (*UserInfo, error) {
	var ui *UserInfo
	err := c.withSession(w, r, func(rs *requestSession) error {
		sess, err := rs.forTokens()
		if err != nil {
			return err
		}
		var changed bool
		ui, changed, err = c.userInfo(r.Context(), sess)
		return rs.after(changed, err)
	})
	return ui, err
}

func (c *Client) userInfo(ctx context.Context, sess *session) (*UserInfo, bool, error) {
	p, err := c.provider(ctx)
	if err != nil {
		return nil, false, err
	}
	if p.userinfoEndpoint == "" {
		return nil, false, &ProviderError{Stage: "userinfo", Reason: ReasonDiscovery, Err: errors.New("no userinfo_endpoint")}
	}
	at, changed, err := c.tokenFor(ctx, sess, "", "")
	if err != nil {
		return nil, changed, err
	}
	body, err := c.oauth.UserInfo(ctx, p.userinfoEndpoint, at.Token)
	if err != nil {
		return nil, changed, endpointError(err)
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
