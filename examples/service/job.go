package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/logto-go/logto"
	"github.com/logto-go/logto/examples/api/messages"
)

// postText is what the job posts to the API.
const postText = "Hello from examples/service"

// apiAnswer is the part of the API's answers the job reads.
type apiAnswer struct {
	Messages []messages.Message `json:"messages"`
	Message  *messages.Message  `json:"message"`
	Sub      string             `json:"sub"`
	Scopes   []string           `json:"scopes"`
	Error    string             `json:"error"`
}

// job gets the app's token for the API, lists the messages, posts one
// (when the token grants write:messages) and lists the organization's
// messages with an organization token (when an organization is set).
func job(ctx context.Context, s settings, stdout io.Writer) error {
	m2m, err := logto.NewM2M(s.M2M)
	if err != nil {
		return err
	}
	tok, err := m2m.Token(ctx)
	if err != nil {
		return fmt.Errorf("token for %s: %w", s.M2M.Resource, err)
	}
	fmt.Fprintf(stdout, "Got a token for %s with the scopes %q, valid for %s.\n",
		s.M2M.Resource, tok.Scopes, time.Until(tok.Expiry).Round(time.Minute))

	api := m2m.Client(nil) // sends the token; renews it when needed
	a, err := call(ctx, api, http.MethodGet, s.APIURL+"/api/messages", nil, http.StatusOK)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "GET %s/api/messages: %d message(s); the API saw sub %s with the scopes %q.\n",
		s.APIURL, len(a.Messages), a.Sub, a.Scopes)

	if slices.Contains(tok.Scopes, messages.ScopeWrite) {
		body, _ := json.Marshal(map[string]string{"text": postText})
		a, err := call(ctx, api, http.MethodPost, s.APIURL+"/api/messages", body, http.StatusCreated)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "POST %s/api/messages: message %d %q by %s.\n", s.APIURL, a.Message.ID, a.Message.Text, a.Message.Author)
	} else {
		fmt.Fprintf(stdout, "Not posting: the token lacks %s (assign the app a role granting it).\n", messages.ScopeWrite)
	}

	if s.OrganizationID == "" {
		return nil
	}
	orgCfg := s.M2M
	orgCfg.Resource, orgCfg.OrganizationID, orgCfg.Scopes = "", s.OrganizationID, []string{messages.ScopeRead}
	org, err := logto.NewM2M(orgCfg)
	if err != nil {
		return err
	}
	u := s.APIURL + "/api/organizations/" + url.PathEscape(s.OrganizationID) + "/messages"
	a, err = call(ctx, org.Client(nil), http.MethodGet, u, nil, http.StatusOK)
	if err != nil {
		return fmt.Errorf("organization %s: %w", s.OrganizationID, err)
	}
	fmt.Fprintf(stdout, "GET %s with an organization token: %d message(s), the first %q.\n", u, len(a.Messages), first(a.Messages))
	return nil
}

func first(ms []messages.Message) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[0].Text
}

// call sends a request to the API and decodes its JSON answer; a status
// other than want is an error naming it and the API's error.
func call(ctx context.Context, c *http.Client, method, rawURL string, body []byte, want int) (apiAnswer, error) {
	var a apiAnswer
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
	if err != nil {
		return a, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return a, err // a failed token request included
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return a, fmt.Errorf("%s %s: %w", method, rawURL, err)
	}
	_ = json.Unmarshal(raw, &a)
	if resp.StatusCode != want {
		detail := a.Error
		if h := resp.Header.Get("WWW-Authenticate"); h != "" {
			detail = strings.TrimSpace(detail + " " + h)
		}
		return a, fmt.Errorf("%s %s: HTTP %d %s", method, rawURL, resp.StatusCode, detail)
	}
	return a, nil
}
