package redisstore_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logto-go/logto/internal/testkit"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// startRedis starts a redis-server of its own for t on a free loopback port,
// without persistence, and returns its address; it is killed when t ends.
// Without a redis-server binary the test is skipped, or fails when CI=true
// (scripts/test.sh installs one).
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: no redis-server in PATH; run scripts/test.sh as root on Debian to install it (apt-get install redis-server)")
		}
		t.Skip("no redis-server in PATH: skipping the Redis tests (apt-get install redis-server, or run scripts/test.sh as root)")
	}
	var lastOut string
	for attempt := 0; attempt < 3; attempt++ { // another process may grab the port first
		addr, out, ok := tryStartRedis(t, bin)
		if ok {
			return addr
		}
		lastOut = out
	}
	t.Fatalf("redis-server did not start:\n%s", lastOut)
	return ""
}

func tryStartRedis(t *testing.T, bin string) (addr, output string, ok bool) {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	// Wait for the port first: go-redis logs every refused dial.
	for {
		select {
		case <-exited:
			return "", out.String(), false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("redis-server does not listen on %s:\n%s", addr, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaintNotificationsConfig: noMaint()})
	defer rdb.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := rdb.Info(ctx, "server").Result()
		cancel()
		// Another process may have taken the port between freePort and
		// redis-server's bind: make sure the server answering is ours.
		if err == nil && strings.Contains(info, "process_id:"+strconv.Itoa(cmd.Process.Pid)+"\r\n") {
			t.Cleanup(stop)
			return addr, "", true
		}
		select {
		case <-exited: // the port was someone else's
			return "", out.String(), false
		default:
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("redis-server at %s does not answer INFO (or another server does): %v\n%s", addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newClient returns a client of the Redis at addr, closed when t ends: each
// one stands for an app instance.
func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaintNotificationsConfig: noMaint()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// noMaint turns off go-redis's maintenance notifications (a Redis Enterprise
// feature): the handshake would try them on every connection.
func noMaint() *maintnotifications.Config {
	return &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

// syncBuffer is a log or console sink safe for concurrent use.
type syncBuffer = testkit.Buffer
