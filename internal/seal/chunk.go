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
// limit, the first one starting with the number of chunks ("3:..."). Reading
// takes exactly that many, so chunks left over from another response (two
// responses racing, the one with fewer chunks landing last) are ignored
// rather than corrupting the value. A missing or foreign chunk yields a value
// that fails to open.
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
	head := first(r, c.chunkName(0))
	if head == "" || len(head) > MaxSetCookieBytes {
		return ""
	}
	n, rest, ok := chunkCount(head)
	if !ok || n > c.MaxChunks {
		return ""
	}
	var b strings.Builder
	b.WriteString(rest)
	for i := 1; i < n; i++ {
		v := first(r, c.chunkName(i))
		if v == "" || len(v) > MaxSetCookieBytes {
			return ""
		}
		b.WriteString(v)
	}
	return b.String()
}

// chunkCount splits the "<n>:" prefix of the first chunk.
func chunkCount(head string) (n int, rest string, ok bool) {
	digits, rest, found := strings.Cut(head, ":")
	if !found || len(digits) == 0 || len(digits) > 2 {
		return 0, "", false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || strconv.Itoa(n) != digits {
		return 0, "", false
	}
	return n, rest, true
}

// Present reports whether the request carries the cookie or any chunk of it.
func (c Chunked) Present(r *http.Request) bool {
	return len(c.names(r)) > 0
}

// Write sets value, splitting it when needed. It expires every other cookie
// of this family the request carried, and the other form (the unchunked
// name when it writes chunks, the first chunk when it writes one cookie), so
// the last response to land always leaves exactly its own value, whatever
// the browser held.
func (c Chunked) Write(w http.ResponseWriter, r *http.Request, value string) error {
	cookies, err := c.split(value)
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(cookies)+1)
	for _, ck := range cookies {
		keep[ck.Name] = true
		http.SetCookie(w, ck)
	}
	other := c.chunkName(0)
	if len(cookies) > 1 {
		other = c.Base.Name
	}
	for _, name := range append(c.names(r), other) {
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
	single := c.Base
	single.Value = value
	if len(single.String()) <= MaxSetCookieBytes {
		return []*http.Cookie{&single}, nil
	}
	probe := c.Base
	probe.Name = c.chunkName(c.MaxChunks)
	room := MaxSetCookieBytes - len(probe.String())
	prefix := len(strconv.Itoa(c.MaxChunks)) + 1 // "<n>:" on the first chunk
	if room <= prefix {
		return nil, ErrTooLarge
	}
	n := (len(value) + prefix + room - 1) / room
	if n > c.MaxChunks {
		return nil, ErrTooLarge
	}
	value = strconv.Itoa(n) + ":" + value
	cookies := make([]*http.Cookie, 0, n)
	for i := 0; i < n; i++ {
		part := c.Base
		part.Name = c.chunkName(i)
		part.Value = value[min(len(value), i*room):min(len(value), (i+1)*room)]
		cookies = append(cookies, &part)
	}
	return cookies, nil
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
	for _, name := range append([]string{c.Base.Name}, c.names(r)...) {
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
