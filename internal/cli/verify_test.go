package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/dockvet/dockvet/internal/finding"
	st "github.com/dockvet/dockvet/internal/signtest"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestVerifyCommand: exit code 0 when a signature verifies, 1 when none
// does, 2 when the check cannot be made; table and JSON say who signed,
// when and which digest.
func TestVerifyCommand(t *testing.T) {
	r := st.NewRegistry(t, true)
	k, other := st.NewKey(t, "p256"), st.NewKey(t, "ed25519")
	_, signed := r.PushImage("acme/app", "1", 2)
	r.AttachCosignTag(signed, "sig", k.SignCosign(t, st.CosignPayload(signed)))
	_, unsigned := r.PushImage("acme/tool", "1", 1)
	f, log := st.NewFulcio(t), st.NewRekor(t)
	_, keyless := r.PushImage("acme/keyless", "1", 1)
	r.AttachBundle(keyless, st.SignBundle(t, st.Ephemeral(t, protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256), st.Statement(keyless, st.PredicateCosignSign, "{}"), f, log), st.PredicateCosignSign)
	root := st.TrustedRoot(t, f, log)
	n := st.NewNotary(t, "cli notation CA")
	_, notarized := r.PushImage("acme/notarized", "1", 1)
	n.Sign(t, r, notarized, "application/jose+json")
	dir := t.TempDir()
	cfg := write(t, dir, "dockvet.yaml", fmt.Sprintf("trust:\n  - images: [%s/acme/app]\n    signatures:\n      - key: %s\n", r.Host, k.File))

	tag := func(d interface{ String() string }) string { return strings.Split(d.String(), "@")[0] + ":1" }
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string
	}{
		{"cosign key", []string{"--key", k.File, tag(signed)}, ExitOK, []string{"VERIFIED  cosign signature, tag sha256-", "signed by key " + k.File, "covers    " + signed.DigestStr(), "Verified: 1 of 1"}},
		{"any of two keys", []string{"--key", other.File, "--key", k.File, "registry:" + tag(signed)}, ExitOK, []string{"VERIFIED"}},
		{"keyless bundle", []string{"--certificate-identity", f.Identity, "--certificate-oidc-issuer", f.Issuer, "--trusted-root", root, tag(keyless)}, ExitOK,
			[]string{"VERIFIED  sigstore-bundle signature, referrer sha256:", "signed by " + f.Identity + " (issuer " + f.Issuer + ")", "(transparency log, entry 5)"}},
		{"notation", []string{"--notation", n.Dir, tag(notarized)}, ExitOK, []string{"VERIFIED  notation signature", "signed by certificate CN=release signer"}},
		{"the trust policy's signers", []string{"--config", cfg, tag(signed)}, ExitOK, []string{"VERIFIED"}},
		{"wrong key", []string{"--key", other.File, tag(signed)}, ExitFindings, []string{"FAILED", "does not verify with key " + other.File, "Not verified: the only signature"}},
		{"unsigned", []string{"--key", k.File, unsigned.String()}, ExitFindings, []string{"no signatures", "Not verified: no signature of " + unsigned.DigestStr()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := run(t, append([]string{"verify"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		code, out, _ := run(t, "verify", "--format", "json", "--key", k.File, tag(signed))
		var doc struct {
			SchemaVersion int    `json:"schemaVersion"`
			Verified      bool   `json:"verified"`
			Digest        string `json:"digest"`
			Signatures    []struct {
				Format, Source, Digest, Signer, Error string
			} `json:"signatures"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if code != ExitOK || !doc.Verified || doc.SchemaVersion != 1 || doc.Digest != signed.DigestStr() || len(doc.Signatures) != 1 ||
			doc.Signatures[0].Digest != signed.DigestStr() || !strings.HasPrefix(doc.Signatures[0].Signer, "key ") {
			t.Errorf("exit %d, %+v", code, doc)
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--key", k.File, r.Host + "/acme/none:1"}, "not found in the registry"},
			{[]string{"--key", k.File, "Not A Ref"}, "not an image reference"},
			{[]string{"--key", filepath.Join(dir, "missing.pub"), tag(signed)}, "missing.pub: no such file"},
			{[]string{tag(unsigned)}, "nothing to verify with"},
			{[]string{"--certificate-identity", "a@b", tag(signed)}, "needs --certificate-oidc-issuer"},
			{[]string{"--certificate-oidc-issuer", "https://x", tag(signed)}, "needs --certificate-identity"},
			{[]string{"--key", k.File, "--offline", tag(signed)}, "--offline forbids"},
			{[]string{"--key", k.File, "--format", "sarif", tag(signed)}, "does not fit this command"},
			{[]string{"--notation", dir, tag(notarized)}, "has no trustpolicy.oci.json"},
			{[]string{"--key", k.File, "docker-archive:app.tar"}, "signatures are stored in the registry"},
		} {
			code, out, errOut := run(t, append([]string{"verify"}, tc.args...)...)
			if code != ExitError || out != "" || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, code, out, errOut, tc.want)
			}
		}
	})
}

// TestTrustPolicyEverySurface: one .dockvet.yaml (a trusted registry, and
// a rule that images of ghcr-like repository acme are used by digest and
// signed with a key) drives findings on a Dockerfile, a Compose file, an
// image and a live container. The container runs an image the real Engine
// pulled from the test registry, so its registry digest is the Engine's own
// record.
func TestTrustPolicyEverySurface(t *testing.T) {
	c := testenv.Docker(t)
	r := st.NewRegistry(t, true)
	k := st.NewKey(t, "p256")
	tiny := testenv.TinyImage(t, v1.Config{})
	signed := r.Push("acme/app", "1", tiny)
	r.AttachCosignTag(signed, "sig", k.SignCosign(t, st.CosignPayload(signed)))
	r.Push("acme/unsigned", "1", testenv.TinyImage(t, v1.Config{Env: []string{"UNSIGNED=1"}}))
	appTag, unsignedTag := r.Host+"/acme/app:1", r.Host+"/acme/unsigned:1"

	dir := t.TempDir()
	cfg := write(t, dir, ".dockvet.yaml", fmt.Sprintf(`trustedRegistries: [%[1]s]
trust:
  - images: [%[1]s/acme]
    digests: required
    signatures:
      - key: %[2]s
`, r.Host, k.File))
	dockerfile := write(t, dir, "Dockerfile", fmt.Sprintf("FROM %s AS build\nFROM %s\nUSER 10001\nHEALTHCHECK CMD [\"/app\", \"healthcheck\"]\n", signed, appTag))
	compose := write(t, dir, "compose.yaml", fmt.Sprintf("services:\n  api:\n    image: %s\n  web:\n    image: %s\n", signed, unsignedTag))

	ids := func(args ...string) []string {
		t.Helper()
		_, out, errOut := run(t, append(args, "--config", cfg, "--format", "json", "--fail-on", "none")...)
		if out == "" {
			t.Fatalf("%v: %s", args, errOut)
		}
		rep := jsonReport(t, out)
		if len(rep.Errors) > 0 {
			t.Fatalf("%v: %+v %s", args, rep.Errors, errOut)
		}
		var got []string
		for _, f := range rep.Findings {
			if f.Practice == finding.PracticeRegistry || f.Practice == finding.PracticeContentTrust {
				got = append(got, fmt.Sprintf("%s@%d%s", f.RuleID, f.Location.Line, f.Location.Container))
			}
		}
		slices.Sort(got)
		return got
	}
	// The Dockerfile: the tag on line 2 breaks "digests: required".
	if got := ids("dockerfile", dockerfile); !slices.Equal(got, []string{"DV1016@2"}) {
		t.Errorf("dockerfile: %v", got)
	}
	// The Compose file: service web names a tag.
	if got := ids("compose", compose); !slices.Equal(got, []string{"DV3073@5"}) {
		t.Errorf("compose: %v", got)
	}
	// Images: the unsigned one fails the signature rule, the signed one passes.
	if got := ids("image", "--verify", "registry:"+unsignedTag); !slices.Equal(got, []string{"DV6501@0"}) {
		t.Errorf("unsigned image: %v", got)
	}
	if got := ids("image", "--verify", "registry:"+appTag); len(got) != 0 {
		t.Errorf("signed image: %v", got)
	}

	// Live containers, from images the Engine pulled from the registry.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	name := func(s string) string { return fmt.Sprintf("dvsign-%d-%s", time.Now().UnixNano(), s) }
	running := map[string]string{}
	for _, ref := range []string{unsignedTag, signed.String()} {
		pull, err := c.ImagePull(ctx, ref, client.ImagePullOptions{})
		if err != nil {
			t.Fatalf("pulling %s: %v", ref, err)
		}
		io.Copy(io.Discard, pull)
		pull.Close()
		t.Cleanup(func() {
			cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
			defer ccancel()
			c.ImageRemove(cctx, ref, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		})
		n := name(map[bool]string{true: "unsigned", false: "signed"}[ref == unsignedTag])
		res, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: n, Config: &containertypes.Config{Image: ref, User: "10001"},
			HostConfig: &containertypes.HostConfig{CgroupnsMode: containertypes.CgroupnsModePrivate}})
		if err != nil {
			t.Fatalf("creating a container of %s: %v", ref, err)
		}
		t.Cleanup(func() {
			cctx, ccancel := context.WithTimeout(context.Background(), time.Minute)
			defer ccancel()
			c.ContainerRemove(cctx, res.ID, client.ContainerRemoveOptions{Force: true})
		})
		running[ref] = n
	}
	// Pulled by tag, unsigned: the tag breaks the digest rule, and the
	// Engine's registry digest has no signature.
	if got := ids("container", "--verify", running[unsignedTag]); !slices.Equal(got, []string{"DV3073@0" + running[unsignedTag], "DV6501@0" + running[unsignedTag]}) {
		t.Errorf("unsigned container: %v", got)
	}
	// Pulled by digest and signed: nothing.
	if got := ids("container", "--verify", running[signed.String()]); len(got) != 0 {
		t.Errorf("signed container: %v", got)
	}
	// An image audited from the Engine is judged by the digest it was pulled by.
	if got := ids("image", "--verify", "docker:"+unsignedTag); !slices.Equal(got, []string{"DV6501@0"}) {
		t.Errorf("unsigned Engine image: %v", got)
	}
	if got := ids("image", "--verify", "docker:"+signed.String()); len(got) != 0 {
		t.Errorf("signed Engine image: %v", got)
	}
	// The host audit checks what runs the same way.
	for _, n := range running {
		if _, err := c.ContainerStart(ctx, n, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("starting %s: %v", n, err)
		}
	}
	_, out, errOut := run(t, "host", "--verify", "--config", cfg, "--format", "json", "--fail-on", "none")
	if out == "" {
		t.Fatalf("host: %s", errOut)
	}
	var hostIDs []string
	for _, f := range jsonReport(t, out).Findings {
		if f.RuleID == "DV6501" {
			hostIDs = append(hostIDs, f.Location.Container+" "+string(f.TargetKind))
		}
	}
	// watch judges what runs with the same policy: DV6501 on the unsigned
	// container only, reported as a watch finding.
	_, out, errOut = run(t, "watch", "--once", "--verify", "--config", cfg, "--format", "json", "--fail-on", "none")
	var watchIDs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var f finding.Finding
		if json.Unmarshal([]byte(line), &f) == nil && f.RuleID == "DV6501" {
			watchIDs = append(watchIDs, f.Location.Container+" "+string(f.TargetKind))
		}
	}
	if !slices.Contains(watchIDs, running[unsignedTag]+" watch") || slices.ContainsFunc(watchIDs, func(s string) bool { return strings.HasPrefix(s, running[signed.String()]) }) {
		t.Errorf("watch --once --verify: DV6501 on %v, want %s only (stderr %s)", watchIDs, running[unsignedTag], errOut)
	}
	if !slices.Equal(hostIDs, []string{running[unsignedTag] + " container"}) {
		t.Errorf("host --verify: DV6501 on %v, want only %s", hostIDs, running[unsignedTag])
	}
}
