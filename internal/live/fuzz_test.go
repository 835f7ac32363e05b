package live_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/fuzztest"
	"github.com/dockvet/dockvet/internal/live"
)

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (the Engine client and every
// container and image rule). Profiled (internal/sign, a JSON decode), that
// is most of a worker's time; .ci/fuzz prints each package's counters.

// FuzzAudit feeds arbitrary JSON, decoded as the Engine API types, to the
// conversion and every rule: whatever an Engine (or a snapshot file)
// answers, the audit does not panic, and every finding is a known rule
// located at the container.
func FuzzAudit(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.txtar")
	for _, file := range files {
		_, c := readCase(f, file)
		data, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		if data, err = json.Marshal(c.Inspect); err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{}`, `null`, `{"inspect":{}}`, `{"Name":"/x","HostConfig":null,"Config":null}`,
		`{"HostConfig":{"PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"x-"}],"53/udp":null}}}`,
		`{"HostConfig":{"PidsLimit":-1,"Ulimits":[null,{"Name":"nofile","Soft":-1,"Hard":-1}],"MaskedPaths":[],"SecurityOpt":["label","=","seccomp:","no-new-privileges:maybe"]}}`,
		`{"Mounts":[{"Type":"","Name":"v","Destination":""},{"Type":"weird","Source":"//./pipe/docker_engine"}],"HostConfig":{"Tmpfs":{"":""}}}`,
		`{"inspect":{"Image":"sha256:1","Config":{"Image":"sha256:1","Healthcheck":{"Test":[]}}},"image":{"Config":null},"tagged":{"Id":""}}`,
		`{"inspect":{"Mounts":[{"Type":"volume","Name":"v"}]},"volumes":{"v":{"Driver":"local","Options":{"o":"bind","device":"~"}}}}`,
		`{"HostConfig":{"PublishAllPorts":true},"NetworkSettings":{"Ports":{"5432/tcp":[{"HostIp":"::","HostPort":"1"}]}}}`,
	} {
		f.Add([]byte(s))
	}
	known := map[string]bool{}
	for _, r := range catalog.All() {
		known[r.ID] = true
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		defer fuzztest.Budget(t)()
		var docs []*live.Container
		var c live.Container
		if json.Unmarshal(data, &c) == nil {
			docs = append(docs, &c)
		}
		var in containertypes.InspectResponse
		if json.Unmarshal(data, &in) == nil {
			docs = append(docs, &live.Container{Inspect: in})
		}
		for _, c := range docs {
			for _, d := range []live.Daemon{{}, {NoNewPrivileges: true}} {
				for _, fd := range live.Audit(c, live.Options{Daemon: d}) {
					if !known[fd.RuleID] || fd.Message == "" || fd.Location.Container != c.Name() || fd.Target != c.Name() {
						t.Fatalf("finding %s at %q/%+v: %q", fd.RuleID, fd.Target, fd.Location, fd.Message)
					}
				}
			}
		}
	})
}
