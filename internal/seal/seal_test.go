package seal_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/seal"
)

const secret = "0123456789abcdef0123456789abcdef"

type payload struct {
	A string `json:"a"`
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	c, err := seal.New([]string{secret}, "session|app", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Seal("logto_app", payload{"hello"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "hello") {
		t.Fatalf("sealed value shows plaintext: %q", v)
	}
	var got payload
	if err := c.Open("logto_app", v, &got); err != nil || got.A != "hello" {
		t.Fatalf("Open = %v, %+v", err, got)
	}

	other, _ := seal.New([]string{secret}, "session|other-app", time.Hour)
	rotated, _ := seal.New([]string{"another-secret-another-secret-xx", secret}, "session|app", time.Hour)
	removed, _ := seal.New([]string{"another-secret-another-secret-xx"}, "session|app", time.Hour)
	flipped := []byte(v)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name  string
		codec *seal.Codec
		ck    string
		value string
		ok    bool
	}{
		{"same", c, "logto_app", v, true},
		{"rotated keyring still opens", rotated, "logto_app", v, true},
		{"other cookie name", c, "logto_app2", v, false},
		{"other purpose", other, "logto_app", v, false},
		{"key removed", removed, "logto_app", v, false},
		{"bit flipped", c, "logto_app", string(flipped), false},
		{"truncated", c, "logto_app", v[:len(v)-3], false},
		{"empty", c, "logto_app", "", false},
		{"raw json", c, "logto_app", `{"appId":"x"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got payload
			err := tc.codec.Open(tc.ck, tc.value, &got)
			if tc.ok != (err == nil) {
				t.Fatalf("Open err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, seal.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestChunkedRoundTrip(t *testing.T) {
	t.Parallel()
	ch := seal.Chunked{Base: http.Cookie{Name: "logto_app", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode, MaxAge: 1209600}, MaxChunks: 12}
	for _, size := range []int{10, 3000, 4100, 20 << 10, 40 << 10} {
		value := strings.Repeat("abcdefghij", size/10+1)[:size]
		rec := httptest.NewRecorder()
		if err := ch.Write(rec, httptest.NewRequest("GET", "/", nil), value); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		for _, line := range rec.Header().Values("Set-Cookie") {
			if len(line) > seal.MaxSetCookieBytes {
				t.Fatalf("size %d: Set-Cookie of %d bytes", size, len(line))
			}
			ck, err := http.ParseSetCookie(line)
			if err != nil {
				t.Fatal(err)
			}
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		if got := ch.Read(req); got != value {
			t.Fatalf("size %d: read back %d bytes", size, len(got))
		}
	}
	rec := httptest.NewRecorder()
	if err := ch.Write(rec, httptest.NewRequest("GET", "/", nil), strings.Repeat("x", 100<<10)); !errors.Is(err, seal.ErrTooLarge) {
		t.Fatalf("100 KB: err = %v, want ErrTooLarge", err)
	}
}

func TestChunkedShrinkDeletesStaleChunks(t *testing.T) {
	t.Parallel()
	ch := seal.Chunked{Base: http.Cookie{Name: "s", Path: "/"}, MaxChunks: 12}
	req := httptest.NewRequest("GET", "/", nil)
	for _, n := range []string{"s.0", "s.1", "s.2", "unrelated", "s.x"} {
		req.AddCookie(&http.Cookie{Name: n, Value: "v"})
	}
	rec := httptest.NewRecorder()
	if err := ch.Write(rec, req, "small"); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, line := range rec.Header().Values("Set-Cookie") {
		ck, _ := http.ParseSetCookie(line)
		got[ck.Name] = ck.MaxAge
	}
	if got["s"] <= 0 && got["s"] != 0 {
		t.Fatalf("s not written: %v", got)
	}
	for _, n := range []string{"s.0", "s.1", "s.2"} {
		if got[n] >= 0 {
			t.Errorf("%s not expired: %v", n, got)
		}
	}
	if _, ok := got["unrelated"]; ok {
		t.Errorf("unrelated cookie touched")
	}
	if _, ok := got["s.x"]; ok {
		t.Errorf("non-numeric suffix touched")
	}
}

func TestChunkedMissingChunkFailsToOpen(t *testing.T) {
	t.Parallel()
	c, _ := seal.New([]string{secret}, "p", time.Hour)
	v, _ := c.Seal("s", payload{strings.Repeat("z", 9000)})
	ch := seal.Chunked{Base: http.Cookie{Name: "s", Path: "/"}, MaxChunks: 12}
	rec := httptest.NewRecorder()
	if err := ch.Write(rec, httptest.NewRequest("GET", "/", nil), v); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range rec.Header().Values("Set-Cookie") {
		if ck, _ := http.ParseSetCookie(line); ck.MaxAge >= 0 {
			lines = append(lines, line) // the chunks, not the expired other form
		}
	}
	if len(lines) < 3 {
		t.Fatalf("want 3+ chunks, got %d", len(lines))
	}
	for skip := range lines {
		req := httptest.NewRequest("GET", "/", nil)
		for i, line := range lines {
			if i == skip {
				continue
			}
			ck, _ := http.ParseSetCookie(line)
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		var got payload
		if err := c.Open("s", ch.Read(req), &got); err == nil {
			t.Fatalf("opened with chunk %d missing", skip)
		}
	}
}

// FuzzOpen: no input opens without the key, and none panics.
func FuzzOpen(f *testing.F) {
	c, _ := seal.New([]string{secret}, "p", time.Hour)
	good, _ := c.Seal("s", payload{"x"})
	for _, s := range []string{good, good[:len(good)-1], "", "a|b|c", "MTcwMDAwMDAwMHx4fHk="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var p payload
		// Seeds sealed by another fuzz worker open legitimately (same key).
		if err := c.Open("s", v, &p); err == nil && p.A != "x" {
			t.Fatalf("opened forged value %q", v)
		}
	})
}

// jar applies Set-Cookie lines the way a browser does, in order.
type jar map[string]string

func (j jar) apply(rec *httptest.ResponseRecorder) {
	for _, line := range rec.Header().Values("Set-Cookie") {
		ck, _ := http.ParseSetCookie(line)
		if ck.MaxAge < 0 {
			delete(j, ck.Name)
		} else {
			j[ck.Name] = ck.Value
		}
	}
}

func (j jar) request() *http.Request {
	req := httptest.NewRequest("GET", "/", nil)
	for name, v := range j {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	return req
}

// TestChunkedRacingResponses: two requests carry the same cookies; their
// responses write values of different sizes and land in either order. The
// browser then holds exactly the value of the last one, never a mix: with
// a shorter value landing last, the longer one's extra chunk is left in the
// jar but not read.
func TestChunkedRacingResponses(t *testing.T) {
	t.Parallel()
	ch := seal.Chunked{Base: http.Cookie{Name: "s", Path: "/"}, MaxChunks: 12}
	sizes := map[string]int{"one cookie": 100, "3 chunks": 9000, "4 chunks": 13000}
	for before, b := range sizes {
		for nameA, a := range sizes {
			for nameB, bb := range sizes {
				initial := jar{}
				rec := httptest.NewRecorder()
				if err := ch.Write(rec, initial.request(), strings.Repeat("0", b)); err != nil {
					t.Fatal(err)
				}
				initial.apply(rec)
				valueA, valueB := strings.Repeat("a", a), strings.Repeat("b", bb)
				recA, recB := httptest.NewRecorder(), httptest.NewRecorder()
				if ch.Write(recA, initial.request(), valueA) != nil || ch.Write(recB, initial.request(), valueB) != nil {
					t.Fatal("write")
				}
				for _, order := range [][2]*httptest.ResponseRecorder{{recA, recB}, {recB, recA}} {
					browser := jar{}
					for k, v := range initial {
						browser[k] = v
					}
					browser.apply(order[0])
					browser.apply(order[1])
					want := valueB
					if order[1] == recA {
						want = valueA
					}
					if got := ch.Read(browser.request()); got != want {
						t.Fatalf("held %s, A %s, B %s, last %v: read %d bytes, want the last response's %d",
							before, nameA, nameB, order[1] == recA, len(got), len(want))
					}
				}
			}
		}
	}
}

// TestChunkedBounds: a value longer than one cookie can hold reads as absent
// (but present, so callers treat it as bad), and only canonical chunk names
// below MaxChunks belong to the family, so a flood of made-up names costs at
// most MaxChunks+1 deletions.
func TestChunkedBounds(t *testing.T) {
	t.Parallel()
	ch := seal.Chunked{Base: http.Cookie{Name: "s", Path: "/"}, MaxChunks: 12}
	for name, cookie := range map[string]string{
		"head":  "s=" + strings.Repeat("A", seal.MaxSetCookieBytes+1),
		"chunk": "s.0=abc; s.1=" + strings.Repeat("A", seal.MaxSetCookieBytes+1),
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", cookie)
		if got := ch.Read(req); got != "" || !ch.Present(req) {
			t.Errorf("%s over the limit: Read = %d bytes, Present = %v; want 0 bytes, true", name, len(got), ch.Present(req))
		}
	}

	req := httptest.NewRequest("GET", "/", nil)
	var b strings.Builder
	for i := 0; i < 1000; i++ {
		b.WriteString("s." + strconv.Itoa(i) + "=v; ")
	}
	req.Header.Set("Cookie", b.String())
	rec := httptest.NewRecorder()
	ch.Clear(rec, req)
	if n := len(rec.Header().Values("Set-Cookie")); n != 13 {
		t.Errorf("Clear with 1000 chunk names wrote %d lines, want 13", n)
	}

	req = httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "s.00=a; s.+1=b; s.-1=c; s.12=d; s.1x=e")
	if ch.Present(req) {
		t.Error("non-canonical or out-of-range chunk names count as ours")
	}
}
