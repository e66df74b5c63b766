package seal

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxSetCookieBytes is the browser limit for one Set-Cookie line (name, value
// and attributes), RFC 6265 section 6.1.
const MaxSetCookieBytes = 4096

// ErrTooLarge means a value needs more chunks than allowed.
var ErrTooLarge = errors.New("seal: value too large for cookies")

// Chunked writes a value as one cookie named Base.Name when it fits in
// MaxSetCookieBytes, otherwise as cookies Name.0, Name.1, ... each within the
// limit. A missing or foreign chunk yields a value that fails to open.
type Chunked struct {
	Base      http.Cookie // name and attributes; Value ignored
	MaxChunks int
}

// Read reassembles the value from the request, "" if absent. It reads at
// most MaxChunks chunks, and a cookie value longer than MaxSetCookieBytes
// (which Write never produces and browsers never store) makes the whole
// value read as "": callers see it through Present as a bad cookie, before
// any decoding or MAC work.
func (c Chunked) Read(r *http.Request) string {
	if v := first(r, c.Base.Name); v != "" {
		if len(v) > MaxSetCookieBytes {
			return ""
		}
		return v
	}
	var b strings.Builder
	for i := 0; i < c.MaxChunks; i++ {
		v := first(r, c.chunkName(i))
		if v == "" {
			break
		}
		if len(v) > MaxSetCookieBytes {
			return ""
		}
		b.WriteString(v)
	}
	return b.String()
}

// Present reports whether the request carries the cookie or any chunk of it.
func (c Chunked) Present(r *http.Request) bool {
	return len(c.names(r)) > 0
}

// Write sets value, splitting it when needed, and expires every cookie of this
// family the request carried that the new value does not use.
func (c Chunked) Write(w http.ResponseWriter, r *http.Request, value string) error {
	cookies, err := c.split(value)
	if err != nil {
		return err
	}
	earlier := c.takeWritten(w)
	keep := make(map[string]bool, len(cookies))
	for _, ck := range cookies {
		keep[ck.Name] = true
		http.SetCookie(w, ck)
	}
	for _, name := range append(c.names(r), earlier...) {
		if !keep[name] {
			keep[name] = true
			c.expire(w, name)
		}
	}
	return nil
}

// Check returns ErrTooLarge when Write would refuse value.
func (c Chunked) Check(value string) error {
	_, err := c.split(value)
	return err
}

// split cuts value into the cookies Write sets.
func (c Chunked) split(value string) ([]*http.Cookie, error) {
	var cookies []*http.Cookie
	single := c.Base
	single.Value = value
	if len(single.String()) <= MaxSetCookieBytes {
		cookies = append(cookies, &single)
	} else {
		probe := c.Base
		probe.Name = c.chunkName(c.MaxChunks)
		room := MaxSetCookieBytes - len(probe.String())
		if room <= 0 {
			return nil, ErrTooLarge
		}
		n := (len(value) + room - 1) / room
		if n > c.MaxChunks {
			return nil, ErrTooLarge
		}
		for i := 0; i < n; i++ {
			part := c.Base
			part.Name = c.chunkName(i)
			part.Value = value[i*room : min(len(value), (i+1)*room)]
			cookies = append(cookies, &part)
		}
	}
	return cookies, nil
}

// takeWritten removes the Set-Cookie lines of this family that an earlier
// Write or Clear put on w, and returns their names, so that several writes in
// one response leave exactly the last state (browsers apply Set-Cookie lines
// in order, and a stale chunk would corrupt the value).
func (c Chunked) takeWritten(w http.ResponseWriter) []string {
	lines := w.Header().Values("Set-Cookie")
	if len(lines) == 0 {
		return nil
	}
	var kept, names []string
	for _, line := range lines {
		if ck, err := http.ParseSetCookie(line); err == nil && c.member(ck.Name) {
			names = append(names, ck.Name)
			continue
		}
		kept = append(kept, line)
	}
	w.Header().Del("Set-Cookie")
	for _, line := range kept {
		w.Header().Add("Set-Cookie", line)
	}
	return names
}

// member reports whether name is the cookie or one of its chunks: a
// canonical index below MaxChunks, the only names Write uses. A request with
// thousands of made-up chunk names therefore makes Clear and Write expire at
// most MaxChunks+1 cookies.
func (c Chunked) member(name string) bool {
	if name == c.Base.Name {
		return true
	}
	rest, ok := strings.CutPrefix(name, c.Base.Name+".")
	if !ok {
		return false
	}
	i, err := strconv.Atoi(rest)
	return err == nil && i >= 0 && i < c.MaxChunks && strconv.Itoa(i) == rest
}

// Clear expires every cookie of this family the request carried (and the
// unchunked name, in case the browser holds one the request did not show).
func (c Chunked) Clear(w http.ResponseWriter, r *http.Request) {
	seen := map[string]bool{}
	earlier := c.takeWritten(w)
	for _, name := range append(append([]string{c.Base.Name}, c.names(r)...), earlier...) {
		if !seen[name] {
			seen[name] = true
			c.expire(w, name)
		}
	}
}

func (c Chunked) expire(w http.ResponseWriter, name string) {
	ck := c.Base
	ck.Name = name
	ck.Value = ""
	ck.MaxAge = -1
	ck.Expires = time.Time{}
	http.SetCookie(w, &ck)
}

func (c Chunked) chunkName(i int) string { return c.Base.Name + "." + strconv.Itoa(i) }

// names lists the cookie names of this family present in the request.
func (c Chunked) names(r *http.Request) []string {
	var out []string
	seen := map[string]bool{}
	for _, ck := range r.Cookies() {
		if !seen[ck.Name] && c.member(ck.Name) {
			seen[ck.Name] = true
			out = append(out, ck.Name)
		}
	}
	return out
}

// first returns the first non-empty value of the cookie called name. It
// scans the Cookie headers itself: this runs on every request, and
// r.CookiesNamed allocates a *http.Cookie per match. Only our own names
// are looked at; other cookies (such as Logto's raw-JSON ones) are skipped.
func first(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			if len(part) > len(name) && part[len(name)] == '=' && part[:len(name)] == name {
				if v := strings.Trim(part[len(name)+1:], `"`); v != "" {
					return v
				}
			}
		}
	}
	return ""
}
