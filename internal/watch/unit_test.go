package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/dockvet/dockvet/internal/host"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		name string
		msg  string
		ok   bool
		want Event
		prog string
	}{
		{name: "exec with its command", ok: true, prog: "/bin/sh",
			msg:  `{"Type":"container","Action":"exec_create: /bin/sh -c 'mysql -pS3cret'","Actor":{"ID":"abc","Attributes":{"execID":"e1","name":"web"}},"time":1795723308,"timeNano":1795723308725283659}`,
			want: Event{Type: "container", Action: "exec_create", Actor: "abc", Name: "web", Exec: "e1", Time: time.Unix(0, 1795723308725283659).UTC()}},
		{name: "seconds only", ok: true,
			msg:  `{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web"}},"time":1795723308}`,
			want: Event{Type: "container", Action: "start", Actor: "abc", Name: "web", Time: time.Unix(1795723308, 0).UTC()}},
		{name: "health status is not audited",
			msg: `{"Type":"container","Action":"health_status: healthy","Actor":{"ID":"abc"},"timeNano":1}`},
		{name: "connect without a container",
			msg: `{"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"name":"bridge"}},"timeNano":1}`},
		{name: "connect", ok: true,
			msg:  `{"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"name":"host","type":"host","container":"c1"}},"timeNano":5}`,
			want: Event{Type: "network", Action: "connect", Actor: "n1", Name: "host", NetworkType: "host", Container: "c1", Time: time.Unix(0, 5).UTC()}},
		{name: "pull names the reference", ok: true,
			msg:  `{"Type":"image","Action":"pull","Actor":{"ID":"alpine:3.20"},"timeNano":5}`,
			want: Event{Type: "image", Action: "pull", Actor: "alpine:3.20", Name: "alpine:3.20", Time: time.Unix(0, 5).UTC()}},
		{name: "no actor", msg: `{"Type":"container","Action":"start","Actor":{},"timeNano":5}`},
		{name: "unknown type", msg: `{"Type":"node","Action":"update","Actor":{"ID":"x"},"timeNano":5}`},
		{name: "exec without its ID (API < 1.27)", ok: true, prog: "sh",
			msg:  `{"Type":"container","Action":"exec_start: sh","Actor":{"ID":"abc"},"timeNano":5}`,
			want: Event{Type: "container", Action: "exec_start", Actor: "abc", Time: time.Unix(0, 5).UTC()}},
		{name: "absurd time", msg: `{"Type":"daemon","Action":"reload","Actor":{"ID":"d"},"time":99999999999999}`, ok: true,
			want: Event{Type: "daemon", Action: "reload", Actor: "d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m events.Message
			if err := json.Unmarshal([]byte(tc.msg), &m); err != nil {
				t.Fatal(err)
			}
			ev, ok := Decode(m)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if ev.program() != tc.prog {
				t.Errorf("program %q, want %q", ev.program(), tc.prog)
			}
			ev.nano, ev.command = 0, ""
			if ev != tc.want {
				t.Errorf("got  %+v\nwant %+v", ev, tc.want)
			}
			line, _ := json.Marshal(ev)
			if strings.Contains(string(line), "S3cret") {
				t.Errorf("the exec's command line is in the record: %s", line)
			}
		})
	}
}

func TestSince(t *testing.T) {
	for nano, want := range map[int64]string{1795723308000000001: "1795723308.000000001", 5: "0.000000005", 1795723308725283659: "1795723308.725283659"} {
		if got := since(nano); got != want {
			t.Errorf("since(%d) = %s, want %s", nano, got, want)
		}
	}
}

func TestQueue(t *testing.T) {
	q := newQueue(2, nil)
	c := func(key string) *job { return &job{kind: jobContainer, key: key} }
	if !q.offer(c("a")) || !q.offer(c("b")) {
		t.Fatal("offers within the limit refused")
	}
	if !q.offer(c("a")) {
		t.Error("an event about a queued container was refused")
	}
	if q.offer(c("c")) {
		t.Error("an offer beyond the limit was taken")
	}
	if !q.force(&job{kind: jobReconcile, key: "resync"}) {
		t.Error("a forced job was refused")
	}
	if q.offer(&job{kind: jobExec, key: "x"}) {
		t.Error("an offer beyond the limit was taken")
	}
	q.force(&job{kind: jobExec, key: "x"})
	ctx := context.Background()
	var order []string
	q.close()
	if q.offer(c("d")) || q.force(c("e")) {
		t.Error("a closed queue took a job")
	}
	for {
		j, ok := q.take(ctx)
		if !ok {
			break
		}
		order = append(order, j.key)
		if j.key == "a" && j.merged != 1 {
			t.Errorf("a: %d merged events, want 1", j.merged)
		}
	}
	if got := strings.Join(order, ","); got != "x,a,b,resync" {
		t.Errorf("order %s, want the exec first, then first in first out", got)
	}
	q2 := newQueue(10, nil)
	q2.offer(c("a"))
	q2.offer(c("a"))
	q2.force(&job{kind: jobReconcile, key: "r"})
	if n := q2.abandon(); n != 2 || q2.len() != 0 {
		t.Errorf("abandon: %d events, %d left", n, q2.len())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := q2.take(cctx); ok {
		t.Error("take returned a job after its context ended")
	}
}

func TestMemory(t *testing.T) {
	m := newMemory(3)
	if !m.first("c1", "DV3050") || m.first("c1", "DV3050") || !m.first("c2", "DV3050") {
		t.Error("first")
	}
	now := time.Now()
	m.retire("c1", now)
	m.retire("never-seen", now)
	m.expire(now.Add(-time.Minute))
	if !m.has("c1", "DV3050") {
		t.Error("forgotten before its time")
	}
	m.expire(now.Add(time.Second))
	if m.has("c1", "DV3050") || !m.has("c2", "DV3050") {
		t.Error("expire")
	}
	if scopes, keys := m.size(); scopes != 1 || keys != 1 {
		t.Errorf("size %d/%d", scopes, keys)
	}
	for _, k := range []string{"a", "b", "c"} {
		if !m.newEvent(k) {
			t.Errorf("%s seen before", k)
		}
	}
	if m.newEvent("a") {
		t.Error("a repeated event was new")
	}
	m.newEvent("d") // pushes "a" out of the ring
	if !m.newEvent("a") {
		t.Error("the ring kept more events than its size")
	}
}

func TestLines(t *testing.T) {
	r := record(7)
	line, err := MarshalLine(&r, EncodeJSON, false)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("\n")) {
		t.Errorf("not one line: %q", line)
	}
	var back map[string]any
	json.Unmarshal(line, &back)
	for _, k := range []string{"ruleId", "severity", "practice", "target", "targetKind", "location", "message", "remediation", "event"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON line has no %q: %s", k, line)
		}
	}
	if back["targetKind"] != "watch" || back["event"].(map[string]any)["action"] != "start" {
		t.Errorf("JSON line: %s", line)
	}
	table, _ := MarshalLine(&r, EncodeTable, false)
	if want := "2026-05-01T12:00:07.000Z HIGH     DV3050 web-007 [container start] Container web-007 runs as root.\n"; string(table) != want {
		t.Errorf("table line %q\nwant       %q", table, want)
	}
	colored, _ := MarshalLine(&r, EncodeTable, true)
	if !bytes.Contains(colored, []byte("\x1b[1;31mHIGH")) {
		t.Errorf("no colour: %q", colored)
	}
}

// TestFileSink: --output appends, across runs, one line per finding.
func TestFileSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "findings.jsonl")
	for run := range 2 {
		s, err := OpenFileSink(path, EncodeJSON)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDispatcher(DispatcherOptions{}, s)
		for i := range 3 {
			d.Write(record(run*3 + i))
		}
		if err := d.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines, want 6", len(lines))
	}
	for i, l := range lines {
		var r Record
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Location.Container != names(6)[i] {
			t.Errorf("line %d: %v %q", i, err, l)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestHeaders(t *testing.T) {
	h, err := ParseHeaders(strings.NewReader("# token for the SIEM\nAuthorization: Bearer abc:def\n\nX-Team:  sec \n"), "headers")
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Authorization") != "Bearer abc:def" || h.Get("X-Team") != "sec" {
		t.Errorf("headers %v", h)
	}
	for _, bad := range []string{"no colon", ": value", "Bad Name: x", "Content-Length: 3", "Host: evil", "X-Dockvet-Delivery: 1"} {
		_, err := ParseHeaders(strings.NewReader(bad), "headers")
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if v, _, _ := strings.Cut(bad, ":"); strings.Contains(err.Error(), "x\n") || !strings.HasPrefix(err.Error(), "headers:1: ") {
			t.Errorf("%q: %v (%s)", bad, err, v)
		}
	}
	_, err = ParseHeaders(strings.NewReader("Authorization: Bearer s3cret\rX"), "headers")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("a value with a line break: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0,
		"Fri, 01 May 2026 12:00:30 GMT": 30 * time.Second, "Fri, 01 May 2026 11:00:00 GMT": 0} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"The daemon trusts 1 insecure registry.": "the daemon trusts 1 insecure registry",
		"DOCKER_HOST reaches the daemon.":        "DOCKER_HOST reaches the daemon",
		"":                                       "",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStopWithQueuedEvents: a stop whose drain time runs out with events
// still queued reports how many were not audited (DV5044), after what the
// workers finished. The jobs are daemon reloads whose host cannot be read
// (each one reports DV5042), so no Engine is needed; the sink is held up
// so that the worker cannot finish before the drain time is over.
func TestStopWithQueuedEvents(t *testing.T) {
	const jobs = 4
	w := New(nil, Options{Workers: 1, DrainTimeout: 50 * time.Millisecond,
		Snapshot: func(context.Context) (*host.Snapshot, error) {
			return nil, errors.New("daemon.json: permission denied")
		}})
	w.outSize = 0
	for i := range jobs {
		ev := Event{Type: "daemon", Action: "reload", Actor: "d", Time: time.Unix(0, int64(i+1)).UTC(), nano: int64(i + 1)}
		w.q.force(&job{kind: jobReload, key: "d:" + strconv.Itoa(i), ev: ev})
	}
	gate, held := make(chan struct{}), make(chan struct{}, 1)
	col := newCollector()
	w.begin(context.Background(), func(r Record) {
		select {
		case held <- struct{}{}:
		default:
		}
		<-gate
		col.sink(r)
	})
	<-held // the first job is done, its finding with the sink
	time.AfterFunc(200*time.Millisecond, func() { close(gate) })
	w.finish()
	var stops, audited []Record
	for _, r := range col.all() {
		switch r.RuleID {
		case "DV5044":
			stops = append(stops, r)
		case "DV5042":
			audited = append(audited, r)
		default:
			t.Errorf("unexpected %s: %s", r.RuleID, r.Message)
		}
	}
	// Every job was either audited (its DV5042) or counted in DV5044.
	want := fmt.Sprintf("watch stopped with %d events not audited.", jobs-len(audited))
	if len(stops) != 1 || len(audited) == jobs || stops[0].Message != want || stops[0].Event.Action != actionStop {
		t.Errorf("want one DV5044 %q:\n%s", want, dump(col.all()))
	}
}
