package image

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxRegistryRedirects bounds the redirects one registry request follows,
// as net/http's default client does (10). go-containerregistry installs a
// redirect check of its own on its client, which removes net/http's limit:
// a registry redirecting to itself was followed 14,600 times in 20 s.
const maxRegistryRedirects = 10

// DefaultRegistryTimeout is how long a registry may keep dockvet waiting
// at any one step (connect, TLS handshake, response headers, a stalled
// body read) when --registry-timeout does not say: long enough for a slow
// registry across the world, short enough that a hung one is noticed.
const DefaultRegistryTimeout = 30 * time.Second

func registryTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultRegistryTimeout
	}
	return d
}

// timeouts sets t's waits: before them a registry that accepted the
// connection and said nothing held a scan forever.
func timeouts(t *http.Transport, d time.Duration) {
	d = registryTimeout(d)
	t.DialContext = (&net.Dialer{Timeout: d, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = d
	t.ResponseHeaderTimeout = d
	t.ExpectContinueTimeout = min(d, time.Second)
}

// errRedirects names the budget in the one line the user sees.
var errRedirects = fmt.Errorf("more than %d redirects (budget maxRegistryRedirects)", maxRegistryRedirects)

// boundedTransport refuses a request that is the eleventh redirect of a
// chain, and gives every response body an idle-read timeout.
type boundedTransport struct {
	next http.RoundTripper
	idle time.Duration
}

func (b *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// net/http sets Response on a request made to follow a redirect: the
	// chain of them is how many redirects led here.
	n := 0
	for r := req.Response; r != nil && r.Request != nil; r = r.Request.Response {
		if n++; n > maxRegistryRedirects {
			return nil, fmt.Errorf("%s: %w", req.URL.Host, errRedirects)
		}
	}
	resp, err := b.next.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = newIdleBody(resp.Body, b.idle)
	return resp, nil
}

// idleBody fails a read that waits longer than d for data: a registry that
// sent its headers and then stalls. Only time spent inside Read counts, so
// a slow consumer (the analyzers on a large file) is not cut off.
type idleBody struct {
	rc    io.ReadCloser
	d     time.Duration
	timer *time.Timer
	mu    sync.Mutex
	fired bool
}

func newIdleBody(rc io.ReadCloser, d time.Duration) *idleBody {
	b := &idleBody{rc: rc, d: d}
	b.timer = time.AfterFunc(time.Hour, b.expire)
	b.timer.Stop()
	return b
}

func (b *idleBody) expire() {
	b.mu.Lock()
	b.fired = true
	b.mu.Unlock()
	b.rc.Close() // unblocks the Read
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.d)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	b.mu.Lock()
	fired := b.fired
	b.mu.Unlock()
	if fired {
		return n, fmt.Errorf("the registry sent nothing for %s (--registry-timeout): %w", b.d, errStalled)
	}
	return n, err
}

var errStalled = errors.New("registry stalled")

func (b *idleBody) Close() error {
	b.timer.Stop()
	return b.rc.Close()
}
