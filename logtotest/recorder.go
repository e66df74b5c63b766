package logtotest

import (
	"net/http"
	"net/url"
	"time"
)

// maxRecorded bounds the request log; the oldest entries are dropped first.
const maxRecorded = 10000

// Request is one request the provider received, as recorded before it was
// handled.
type Request struct {
	Method string
	// Path is the request path, including any URL path prefix.
	Path string
	// Query is the parsed query string.
	Query url.Values
	// Form is the parsed POST body (form or JSON); empty for other methods.
	Form url.Values
	// Header is a copy of the request headers.
	Header http.Header
	// Time is the provider clock when the request arrived.
	Time time.Time
}

func (p *Provider) record(r *http.Request, form url.Values) {
	req := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Form:   cloneValues(form),
		Header: r.Header.Clone(),
		Time:   p.now(),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.requests) >= maxRecorded {
		p.requests = append(p.requests[:0], p.requests[len(p.requests)-maxRecorded/2:]...)
	}
	p.requests = append(p.requests, req)
}

// Requests returns every request received since the provider was created
// or [Provider.ResetRequests] was called, in arrival order (at most the
// latest 10000).
func (p *Provider) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Request, len(p.requests))
	for i, r := range p.requests {
		r.Query, r.Form, r.Header = cloneValues(r.Query), cloneValues(r.Form), r.Header.Clone()
		out[i] = r
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (p *Provider) ResetRequests() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = nil
}

// CountRequests returns how many recorded requests had exactly this path.
// path may be given with or without the URL path prefix, e.g. "/oidc/token".
func (p *Provider) CountRequests(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.requests {
		if r.Path == path || (p.basePath != "" && r.Path == p.basePath+path) {
			n++
		}
	}
	return n
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
