package watch

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WebhookOptions configure a webhook sink.
type WebhookOptions struct {
	// URL receives one POST per finding, the record as JSON.
	URL string
	// Header is added to every POST (tokens: "Authorization: Bearer …").
	Header http.Header
	// SpoolDir holds the findings not delivered yet; it survives restarts.
	SpoolDir string
	// SpoolMax bounds the spool (default 10000 findings).
	SpoolMax int
	// Timeout bounds one POST (default 10s).
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between failed attempts
	// (defaults 500ms and 1m); a Retry-After answer is honoured up to
	// five times MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// UserAgent names dockvet and its version.
	UserAgent string
	// Client sends the POSTs (default: a client with Timeout).
	Client  *http.Client
	Metrics *Metrics
	Notice  func(format string, args ...any)
}

// Webhook posts each finding to a URL. Write only spools the finding on
// disk; a goroutine delivers the spool oldest first, one at a time, and
// removes a finding once the endpoint answered 2xx. Network errors, 5xx,
// 408, 425 and 429 are retried with backoff, and so are 401, 403 and 404:
// they are configuration problems that get fixed, and the findings wait
// for it. Other 4xx answers refuse the finding itself: it is moved to
// the spool's rejected/ directory, where it can be looked at, and the
// next one is delivered.
type Webhook struct {
	o    WebhookOptions
	name string
	sp   *spool
	wake chan struct{}

	mu       sync.Mutex
	draining bool
	deadline context.Context
	abort    context.CancelFunc
	done     chan struct{}
}

// CheckWebhookURL says what is wrong with a webhook URL, without
// repeating it (it may hold a token).
func CheckWebhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--webhook: want an http:// or https:// URL")
	}
	return u, nil
}

// NewWebhook opens the spool and starts delivering what it holds.
func NewWebhook(o WebhookOptions) (*Webhook, error) {
	u, err := CheckWebhookURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.SpoolMax <= 0 {
		o.SpoolMax = 10000
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(time.Minute, o.MinBackoff)
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Notice == nil {
		o.Notice = func(string, ...any) {}
	}
	sp, err := openSpool(o.SpoolDir, o.SpoolMax)
	if err != nil {
		return nil, fmt.Errorf("webhook spool %s: %w", o.SpoolDir, err)
	}
	w := &Webhook{o: o, sp: sp, wake: make(chan struct{}, 1), done: make(chan struct{}),
		// The URL's path and query often are the secret (Slack, Teams);
		// the sink is named by its scheme and host only.
		name: "webhook " + u.Scheme + "://" + u.Host}
	w.deadline, w.abort = context.WithCancel(context.Background())
	o.Metrics.spool(sp.len())
	if n := sp.len(); n > 0 {
		w.o.Notice("%s: %d findings spooled by an earlier run are delivered first", w.name, n)
	}
	go w.deliver()
	return w, nil
}

// Name is "webhook SCHEME://HOST".
func (w *Webhook) Name() string { return w.name }

// Spooled is how many findings wait for delivery.
func (w *Webhook) Spooled() int { return w.sp.len() }

// Write spools one record for delivery.
func (w *Webhook) Write(r *Record) error {
	body, err := marshalJSON(r)
	if err != nil {
		return err
	}
	ok, err := w.sp.put(body)
	if err != nil {
		return fmt.Errorf("cannot spool findings: %w", err)
	}
	if !ok {
		w.o.Metrics.spoolDrop()
		return &errSpoolFull{limit: w.o.SpoolMax}
	}
	w.o.Metrics.spool(w.sp.len())
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// Flush makes the spooled findings durable.
func (w *Webhook) Flush() error { return w.sp.sync() }

// Close keeps delivering until the spool is empty or ctx is done; what is
// left stays spooled for the next run.
func (w *Webhook) Close(ctx context.Context) error {
	err := w.Flush()
	w.mu.Lock()
	w.draining = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		w.abort()
		<-w.done
	}
	if n := w.sp.len(); n > 0 {
		w.o.Notice("%s: %d findings stay spooled in %s for the next run", w.name, n, w.o.SpoolDir)
	}
	return err
}

func (w *Webhook) stopping() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.draining
}

func (w *Webhook) deliver() {
	defer close(w.done)
	backoff := w.o.MinBackoff
	failing := false
	for {
		if w.deadline.Err() != nil {
			return
		}
		name, body, ok := w.sp.oldest(func(name string, err error) {
			w.o.Notice("%s: spool file %s is not a finding (%v); moved to %s/", w.name, name, err, spoolRejected)
		})
		if !ok {
			if w.stopping() {
				return
			}
			select {
			case <-w.wake:
			case <-w.deadline.Done():
				return
			}
			continue
		}
		status, retryAfter, err := w.post(name, body)
		switch {
		case err == nil && status/100 == 2:
			if rerr := w.sp.done(name); rerr != nil {
				w.o.Notice("%s: removing delivered %s: %v", w.name, name, rerr)
			}
			w.o.Metrics.webhookResult("delivered")
			w.o.Metrics.spool(w.sp.len())
			if failing {
				w.o.Notice("%s: delivering again", w.name)
			}
			failing, backoff = false, w.o.MinBackoff
			continue
		case err == nil && refused(status):
			w.o.Metrics.webhookResult("rejected")
			if rerr := w.sp.reject(name); rerr != nil {
				w.o.Notice("%s: moving refused %s aside: %v", w.name, name, rerr)
			}
			w.o.Metrics.spool(w.sp.len())
			w.o.Notice("%s: answered %d to finding %s; kept in %s/%s/", w.name, status, name, w.o.SpoolDir, spoolRejected)
			continue
		}
		w.o.Metrics.webhookResult("retried")
		if !failing {
			why := fmt.Sprintf("answered %d", status)
			if err != nil {
				why = err.Error()
			}
			w.o.Notice("%s: %s; findings are spooled and retried", w.name, oneLine(why))
			failing = true
		}
		d := time.Duration(float64(backoff) * (0.8 + 0.4*rand.Float64()))
		if retryAfter > 0 {
			d = min(retryAfter, 5*w.o.MaxBackoff)
		}
		backoff = min(backoff*2, w.o.MaxBackoff)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-w.deadline.Done():
			t.Stop()
			return
		}
	}
}

// refused reports whether a status refuses the finding itself: retrying
// the same body cannot succeed.
func refused(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return false
	}
	return status/100 == 4
}

func (w *Webhook) post(name string, body []byte) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(w.deadline, w.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.o.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	for k, vs := range w.o.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	if w.o.UserAgent != "" {
		req.Header.Set("User-Agent", w.o.UserAgent)
	}
	// The same finding keeps its delivery ID across retries and
	// restarts, so a receiver can drop a duplicate (a POST that was
	// received but whose answer was lost).
	req.Header.Set("X-Dockvet-Delivery", strings.TrimSuffix(name, spoolExt))
	resp, err := w.o.Client.Do(req)
	if err != nil {
		// The error names the URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// ParseHeaders reads webhook headers, one "Name: value" per line; blank
// lines and lines starting with # are skipped. name is used in errors,
// which never repeat a value (it may be a token).
func ParseHeaders(r io.Reader, name string) (http.Header, error) {
	h := http.Header{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := AddHeader(h, line); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return h, nil
}

// AddHeader adds one "Name: value" header.
func AddHeader(h http.Header, line string) error {
	k, v, ok := strings.Cut(line, ":")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if !ok || k == "" {
		return fmt.Errorf("want \"Name: value\"")
	}
	if !validHeaderName(k) {
		return fmt.Errorf("%q is not a header name", k)
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return fmt.Errorf("the value of %s holds a line break", k)
	}
	switch http.CanonicalHeaderKey(k) {
	case "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "X-Dockvet-Delivery":
		return fmt.Errorf("%s is set by dockvet", http.CanonicalHeaderKey(k))
	}
	h.Add(k, v)
	return nil
}

// validHeaderName accepts RFC 9110 tokens.
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return s != ""
}

// ReadHeaderFile reads a headers file (see ParseHeaders).
func ReadHeaderFile(path string) (http.Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseHeaders(f, path)
}
