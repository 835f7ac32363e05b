package authz

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	containertypes "github.com/moby/moby/api/types/container"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// Executions per second: about a thousand per CPU second, not thousands.
// Go's fuzzer copies and compares the test binary's coverage counters, and
// ships them between coordinator and worker, on every execution: a fixed
// cost that grows with all the binary links (the Engine API types, the
// policy, every rule set). Profiled (internal/sign, a JSON decode), that is
// most of a worker's time; .ci/fuzz prints each package's counters.

// FuzzHandler: whatever the Engine (or anything that reaches the socket)
// sends, the handler answers one JSON response, never panics, and never
// allows a judged request it could not read.
func FuzzHandler(f *testing.F) {
	for _, seed := range []string{
		`{"RequestMethod":"POST","RequestUri":"/v1.41/containers/create?name=x","RequestBody":"eyJJbWFnZSI6ImFscGluZSIsIkhvc3RDb25maWciOnsiQmluZHMiOlsiL3Zhci9ydW4vZG9ja2VyLnNvY2s6L3MiXX19"}`,
		`{"RequestMethod":"GET","RequestUri":"/_ping"}`,
		`{"RequestMethod":"POST","RequestUri":"/containers/x/exec","RequestBody":"eyJQcml2aWxlZ2VkIjp0cnVlfQ=="}`,
		`{"RequestMethod":"POST","RequestUri":"/containers/x/update","RequestBody":"eyJQaWRzTGltaXQiOi0xfQ=="}`,
		`{"RequestMethod":"POST","RequestUri":"/images/create?fromImage=alpine&tag=3"}`,
		`{"RequestMethod":"POST","RequestUri":"/containers/create","RequestBody":"!!"}`,
		`{"RequestMethod":"POST","RequestUri":"%zz"}`,
		`{"User":"a","RequestPeerCertificates":["garbage"]}`,
		`{`, ``, `null`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	cfg := filepath.Join(f.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("trustedRegistries: [docker.io]\n"), 0o600)
	h := &Handler{Decider: New(Options{Load: func() (*Policy, error) { return LoadPolicy(cfg, "", nil) }, LogReads: true})}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, msg []byte) {
		defer fuzztest.Budget(t)()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, PathRequest, bytes.NewReader(msg)))
		var r Response
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatalf("answer %q is not JSON", rec.Body.String())
		}
		if rec.Code != http.StatusOK && r.Allow {
			t.Fatalf("an error answer allows: %q", rec.Body.String())
		}
		var req Request
		if json.Unmarshal(msg, &req) != nil {
			return
		}
		body, berr := req.Body()
		// The daemon reads the body with encoding/json into the API's
		// types: what does not decode that way must not be allowed.
		var into any
		switch classify(req.RequestMethod, req.RequestURI).Kind {
		case KindCreate:
			into = &containertypes.CreateRequest{}
		case KindExec:
			into = &containertypes.ExecCreateRequest{}
		case KindUpdate:
			into = &containertypes.UpdateConfig{}
		default:
			return
		}
		if (berr != nil || len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, into) != nil) && r.Allow {
			t.Fatalf("a request with an unreadable body was allowed: %q", msg)
		}
	})
}

// FuzzCreateBody: any create body either decodes into a spec that the
// rules judge, or is denied; neither panics.
func FuzzCreateBody(f *testing.F) {
	for _, seed := range []string{
		`{"Image":"alpine","HostConfig":{"Binds":["/var/run/docker.sock:/s:ro,z"],"Mounts":[{"Type":"volume","Source":"v","Target":"/v","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"o":"bind","device":"/"}}}}],"Tmpfs":{"/t":""},"PortBindings":{"22/tcp":[{"HostIp":"","HostPort":"2222"}]},"Privileged":true,"CapAdd":["SYS_ADMIN"],"SecurityOpt":["seccomp=unconfined","apparmor:unconfined"],"PidsLimit":-1,"Ulimits":[{"Name":"nofile","Soft":-1,"Hard":-1}]}}`,
		`{"Image":"x","Env":["A","DOCKER_HOST=unix:///var/run/docker.sock"],"Volumes":{"/data":{}},"User":"0"}`,
		`{"HostConfig":{"Binds":["::"],"PortBindings":{"x":[{}]}}}`,
		`{}`, `null`, `[1]`,
	} {
		f.Add([]byte(seed))
	}
	cfg := filepath.Join(f.TempDir(), "c.yaml")
	os.WriteFile(cfg, nil, 0o600)
	d := New(Options{Load: func() (*Policy, error) { return LoadPolicy(cfg, "", nil) }})
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		defer fuzztest.Budget(t)()
		raw, _ := json.Marshal(body)
		dec := d.Decide(t.Context(), &Request{RequestMethod: "POST", RequestURI: "/containers/create", RequestBody: raw})
		if dec.Verdict == "" || (!dec.Allowed() && dec.Message == "") {
			t.Fatalf("decision %+v", dec)
		}
	})
}
