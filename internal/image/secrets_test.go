package image

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/secrets/sample"
	"github.com/dockvet/dockvet/internal/testenv"
)

// secretSample is the secrets package's fabricated secret for a rule.
func secretSample(t testing.TB, id string) sample.Secret {
	for _, s := range sample.All(7) {
		if s.RuleID == id {
			return s
		}
	}
	t.Fatalf("no sample for %s", id)
	return sample.Secret{}
}

// position is the 1-based line and byte column of s.Secret in s.Text.
func position(s sample.Secret) (int, int) {
	off := strings.Index(s.Text, s.Secret)
	before := s.Text[:off]
	return strings.Count(before, "\n") + 1, off - strings.LastIndexByte(before, '\n')
}

// secretCap is the byte cap of the engine in these tests.
const secretCap = 4096

// TestSecretsInLayers is the acceptance, through every source: a
// key added in one layer and deleted in the next is reported with the
// layer that holds it; a secret in a file a later layer overwrites is
// reported in its layer; a secret in a binary file is not reported; a
// text file over the cap is reported as scanned only in part, and the
// secret past the cap is not claimed as found.
func TestSecretsInLayers(t *testing.T) {
	key, token, stripe, slack := secretSample(t, "DV7013"), secretSample(t, "DV7080"), secretSample(t, "DV7006"), secretSample(t, "DV7005")
	filler := strings.Repeat("INSERT INTO log VALUES (1, 'nothing to see');\n", 2*secretCap/46)
	img := testenv.Image(t, v1.Config{User: "10001"}, []v1.Layer{
		testenv.Layer(t, testenv.File{Path: "app/run", Mode: 0o755, Body: testenv.StaticBinary(t)}),
		testenv.Layer(t,
			testenv.File{Path: "root/.ssh/id_rsa", Mode: 0o600, Body: []byte(key.Text)},
			testenv.File{Path: "app/.env", Body: []byte(token.Text)},
			testenv.File{Path: "app/cache.bin", Body: []byte("\x00\x01\x02" + stripe.Text)},
			testenv.File{Path: "var/backups/dump.sql", Body: []byte(filler + slack.Text)},
		),
		testenv.Layer(t,
			testenv.File{Path: "root/.ssh/id_rsa", Whiteout: true},
			testenv.File{Path: "app/.env", Body: []byte("SENDGRID_API_KEY=${SENDGRID_API_KEY}\n")},
		),
	}, "COPY app /app", "COPY . /", "RUN /bin/sh -c rm /root/.ssh/id_rsa && render-env")
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	diff := cf.RootFS.DiffIDs
	keyLine, keyCol := position(key)
	tokLine, tokCol := position(token)
	want := []string{
		fmt.Sprintf("DV2022 /app/.env 0:0 layer 2 %s ", diff[2]),
		fmt.Sprintf("DV2029 /var/backups/dump.sql 0:0 layer 1 %s ", diff[1]),
		fmt.Sprintf("DV7013 /root/.ssh/id_rsa %d:%d layer 1 %s %s", keyLine, keyCol, diff[1], finding.Fingerprint("DV7013", key.Secret)),
		fmt.Sprintf("DV7080 /app/.env %d:%d layer 1 %s %s", tokLine, tokCol, diff[1], finding.Fingerprint("DV7080", token.Secret)),
	}
	messages := map[string]string{
		"DV7013": "deleted in layer 2, but still extractable from layer 1.",
		"DV7080": "overwritten in layer 2, but still extractable from layer 1.",
		"DV2029": "Only the first 4.0 KiB of /var/backups/dump.sql",
	}
	check := func(t *testing.T, ref string) {
		t.Helper()
		opened, err := Open(context.Background(), ref, OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer opened.Close()
		e, err := secrets.New(secrets.Options{MaxBytes: secretCap})
		if err != nil {
			t.Fatal(err)
		}
		scan := NewSecrets(e)
		fs, _, err := Audit(context.Background(), opened, AuditOptions{Now: testNow, Secrets: scan})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range fs {
			if f.Practice != finding.PracticeSecrets {
				continue
			}
			got = append(got, fmt.Sprintf("%s %s %d:%d layer %d %s %s", f.RuleID, f.Location.Path, f.Location.Line, f.Location.Column,
				*f.Location.LayerIndex, f.Location.Layer, f.Fingerprint))
			if m := messages[f.RuleID]; !strings.Contains(f.Message, m) {
				t.Errorf("%s: message %q lacks %q", f.RuleID, f.Message, m)
			}
			for _, s := range []sample.Secret{key, token, stripe, slack} {
				if strings.Contains(f.Message, s.Secret[:12]) {
					t.Errorf("%s: the message shows the secret: %s", f.RuleID, f.Message)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("secret findings:\n got %q\nwant %q", got, want)
		}
		st := scan.Stats()
		// app/run and app/cache.bin are binary; four text files were read
		// (both versions of /app/.env), one of them up to the cap.
		if st.Files != 6 || st.Binary != 2 || st.Truncated != 1 || st.MaxBytes != secretCap || st.Bytes <= secretCap {
			t.Errorf("stats %+v", st)
		}
	}
	archive := writeDockerArchive(t, img, "dockvet-test/secrets:1")
	dir := writeLayout(t, imageIndex(img))
	host := registryHost(t)
	pushImage(t, host+"/test/secrets:1", img)
	for _, ref := range []string{"docker-archive:" + archive, "oci:" + dir, "oci-archive:" + tarDir(t, dir), "registry:" + host + "/test/secrets:1"} {
		t.Run(ref[:strings.IndexByte(ref, ':')], func(t *testing.T) { check(t, ref) })
	}
	// The Engine streams its archive: layers learn their position only at
	// the end, and the layer that holds the key must still be named.
	t.Run("docker", func(t *testing.T) {
		c := testenv.Docker(t)
		testenv.Load(t, c, img, "dockvet-test/secrets:engine")
		check(t, "docker:dockvet-test/secrets:engine")
	})
}

// TestSecretsSkipPaths: files under the engine's documented skip paths are
// not read, and counted.
func TestSecretsSkipPaths(t *testing.T) {
	slack := secretSample(t, "DV7005")
	img := testenv.Image(t, v1.Config{User: "10001"}, []v1.Layer{testenv.Layer(t,
		testenv.File{Path: "usr/share/doc/app/NOTES", Body: []byte(slack.Text)},
		testenv.File{Path: "usr/share/locale/de/app.po", Body: []byte(slack.Text)},
		testenv.File{Path: "etc/app/slack.env", Body: []byte(slack.Text)},
	)})
	opened, err := Open(context.Background(), "docker-archive:"+writeDockerArchive(t, img, "dockvet-test/skip:1"), OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	scan := NewSecrets(secrets.Default())
	fs, _, err := Audit(context.Background(), opened, AuditOptions{Now: testNow, Secrets: scan,
		Enabled: func(r *finding.Rule) bool { return r.Practice == finding.PracticeSecrets }})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].RuleID != "DV7005" || fs[0].Location.Path != "/etc/app/slack.env" {
		t.Errorf("findings %v", fs)
	}
	if st := scan.Stats(); st.SkippedPath != 2 || st.SkippedBytes != int64(2*len(slack.Text)) || st.Files != 1 {
		t.Errorf("stats %+v", st)
	}
}
