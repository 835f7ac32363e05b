package watch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/events"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (the Engine client, the sinks
// and every rule set). Profiled (internal/sign, a JSON decode), that is
// most of a worker's time; .ci/fuzz prints each package's counters.

// FuzzDecode feeds arbitrary bytes, decoded as the client decodes the
// Engine's event stream, to Decode and, when watch acts on the event, to
// the dispatch that turns it into a job: whatever an Engine (or a proxy
// in front of one) sends, nothing panics and the invariants hold.
func FuzzDecode(f *testing.F) {
	for _, file := range caseFiles(f) {
		if _, c := readCase(f, file); c.Event != nil {
			f.Add([]byte(c.Event))
		}
	}
	for _, s := range []string{
		`{}`, `null`, `{"Type":"container","Action":"exec_create:","Actor":{"ID":"x"}}`,
		`{"Type":"container","Action":":::","Actor":{"ID":"x","Attributes":{"execID":""}},"time":-1}`,
		`{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"c","type":"host","name":"host"}},"timeNano":-5}`,
		`{"Type":"image","Action":"tag","Actor":{"ID":"sha256:x","Attributes":{"name":"UPPER/Case:!"}},"time":9223372036854775807}`,
		`{"Type":"daemon","Action":"reload","Actor":{"ID":"d","Attributes":{"insecure-registries":"[a b]"}}}`,
		`{"Type":"plugin","Action":"enable","Actor":{"ID":"p","Attributes":null}}`,
	} {
		f.Add([]byte(s))
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		var m events.Message
		if json.Unmarshal(data, &m) != nil {
			return
		}
		ev, ok := Decode(m)
		if strings.Contains(ev.Action, ":") {
			t.Fatalf("action %q keeps the text after the colon", ev.Action)
		}
		if strings.ContainsAny(ev.program(), " \t\n") {
			t.Fatalf("program %q", ev.program())
		}
		// The key recognises the event when a resumed stream sends it
		// again: the same message, read again, has the same key, and a
		// message at another time has another.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var m2 events.Message
		if err := json.Unmarshal(again, &m2); err != nil {
			t.Fatal(err)
		}
		if ev2, _ := Decode(m2); ev2.key() != ev.key() {
			t.Fatalf("the same event read again has key %q, not %q", ev2.key(), ev.key())
		}
		later := m
		later.TimeNano = ev.nano + 1
		if ev3, _ := Decode(later); ev3.key() == ev.key() {
			t.Fatalf("an event at another time has the same key %q", ev.key())
		}
		if !ok {
			return
		}
		if ev.Actor == "" {
			t.Fatalf("an event without an actor is acted on: %+v", ev)
		}
		w := New(nil, Options{QueueSize: 1})
		w.dispatch(&ev)
		if w.q.len() > 2 {
			t.Fatalf("one event queued %d jobs", w.q.len())
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzJudge runs the event rules over arbitrary Engine answers: a recorded
// case with any of its parts replaced by what a fuzzer makes. No rule
// panics, and every finding is a watch finding with a message.
func FuzzJudge(f *testing.F) {
	for _, file := range caseFiles(f) {
		if _, c := readCase(f, file); c.Reload == nil {
			data, err := json.Marshal(c)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(`{"event":{"Type":"container","Action":"exec_start","Actor":{"ID":"c","Attributes":{"execID":"e"}}},"exec":{"ProcessConfig":null},"container":{"Config":null}}`))
	f.Add([]byte(`{"event":{"Type":"plugin","Action":"install","Actor":{"ID":"p"}},"plugin":{"Config":{"Mounts":[{"Source":null},{"Source":"/","Type":"bind"}],"Linux":{"Devices":[{"Path":null}]}}}}`))
	f.Add([]byte(`{"event":{"Type":"network","Action":"connect","Actor":{"ID":"n","Attributes":{"container":"c","name":"host"}},"timeNano":1},"container":{"State":{"Running":true,"StartedAt":"0001-01-01T00:00:00Z"}}}`))
	f.Add([]byte(`{"event":{"Type":"image","Action":"tag","Actor":{"ID":"i","Attributes":{"name":"r.example.com/a:1"}}},"image":{"RepoDigests":["@","x@sha256:zz",""]},"trusted":["r.example.com"]}`))
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		var c eventCase
		if json.Unmarshal(data, &c) != nil {
			return
		}
		for _, p := range c.Trusted {
			if strings.TrimSpace(p) == "" {
				return // the configuration loader refuses empty entries
			}
		}
		fs, _, _ := judgeCase(nil, &c)
		for _, fd := range fs {
			if !strings.HasPrefix(fd.RuleID, "DV50") || fd.Message == "" || fd.TargetKind != "watch" {
				t.Fatalf("finding %+v", fd)
			}
		}
	})
}

// FuzzSpoolFile: whatever a spool file holds (a finding, a torn or
// corrupted write, someone else's file), the spool either hands it to the
// webhook as one JSON finding or moves it aside; it never panics and
// never posts what is not a finding. Hundreds per CPU second: each input
// is a file written to a spool directory, read back and moved aside, as
// the webhook sink does.
func FuzzSpoolFile(f *testing.F) {
	r := record(1)
	good, _ := marshalJSON(&r)
	f.Add(good, "00000000000000000001.json")
	f.Add(good[:len(good)/2], "00000000000000000002.json")
	f.Add([]byte(`{"ruleId":"DV1","event":{}}{"ruleId":"DV2","event":{}}`), "00000000000000000003.json")
	f.Add([]byte(`{"ruleId":"","event":null}`), "00000000000000000004.json")
	f.Add([]byte("\x00\xff"), ".tmp-123")
	f.Add([]byte(`[]`), "18446744073709551615.json")
	f.Add([]byte(`{}`), "99999999999999999999.json")
	dir := filepath.Join(f.TempDir(), "spool")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		defer fuzztest.Budget(t)()
		body, err := parseSpooled(data)
		if err == nil && !json.Valid(body) {
			t.Fatalf("accepted %q", data)
		}
		if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
			return
		}
		// One directory, emptied per input (a worker runs one input at a
		// time), costs less than a temporary directory per input.
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if os.WriteFile(filepath.Join(dir, name), data, 0o600) != nil {
			return
		}
		sp, err := openSpool(dir, 10)
		if err != nil {
			t.Fatal(err)
		}
		_, seqOK := parseSpoolName(name)
		if got := sp.len(); got != map[bool]int{true: 1, false: 0}[seqOK] {
			t.Fatalf("spool of %q lists %d files", name, got)
		}
		bad := 0
		gotName, gotBody, ok := sp.oldest(func(string, error) { bad++ })
		if ok {
			if gotName != name || !bytes.Equal(gotBody, bytes.TrimSpace(data)) {
				t.Fatalf("oldest %q %q", gotName, gotBody)
			}
			if _, err := parseSpooled(gotBody); err != nil {
				t.Fatalf("handed out %q: %v", gotBody, err)
			}
		}
		if seqOK && !ok && bad != 1 {
			t.Fatalf("%q was neither delivered nor moved aside", name)
		}
		if sp.len() != 0 && !ok {
			t.Fatal("spool still lists a file it moved aside")
		}
	})
}

// FuzzHeaders: a headers file never yields a header that would break the
// request (an invalid name, a line break in a value) or one dockvet sets.
func FuzzHeaders(f *testing.F) {
	f.Add("Authorization: Bearer abc\n# comment\nX-Team: sec\n")
	f.Add("Host: evil\n")
	f.Add("A:\r\nB: c\x00d")
	f.Add(strings.Repeat("X", 70000) + ": y")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data string) {
		defer fuzztest.Budget(t)()
		h, err := ParseHeaders(strings.NewReader(data), "f")
		if err != nil {
			return
		}
		for k, vs := range h {
			if !validHeaderName(k) {
				t.Fatalf("name %q", k)
			}
			switch k {
			case "Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection", "X-Dockvet-Delivery":
				t.Fatalf("%s accepted", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("value %q", v)
				}
			}
		}
		// Every accepted line is one header: nothing is lost either.
		n := 0
		sc := bufio.NewScanner(strings.NewReader(data))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l != "" && !strings.HasPrefix(l, "#") {
				n++
			}
		}
		total := 0
		for _, vs := range h {
			total += len(vs)
		}
		if total != n {
			t.Fatalf("%d lines, %d headers", n, total)
		}
	})
}
