package image

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/secrets/sample"
	"github.com/dockvet/dockvet/internal/testenv"
)

// TestSecretCaps checks issue 19's caps (a layer of 300,000 distinct keys
// made a 292 MB report): a file with more secrets than the engine keeps is
// reported as searched only in part, a layer's secrets past
// MaxLayerSecrets are counted in one finding, and what is kept is the
// cap, not more. (TestSecretsInLayers is the image under the caps: no
// such finding.)
func TestSecretCaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 1))
	big := sample.AWSKeyIDs(secrets.DefaultMaxMatches+20, rng)
	var files []testenv.File
	files = append(files, testenv.File{Path: "app/dump.txt", Body: big})
	for i := range MaxLayerSecrets / 2 {
		files = append(files, testenv.File{Path: fmt.Sprintf("app/k/%d.env", i), Body: sample.AWSKeyIDs(1, rng)})
	}
	img := testenv.Image(t, v1.Config{User: "10001"}, []v1.Layer{testenv.Layer(t, files...)}, "COPY . /")
	ref := writeDockerArchive(t, img, "caps:1")
	opened, err := Open(context.Background(), "docker-archive:"+ref, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	scan := NewSecrets(secrets.Default())
	fs, _, err := Audit(context.Background(), opened, AuditOptions{Now: testNow, Secrets: scan})
	if err != nil {
		t.Fatal(err)
	}
	keys, notes := 0, []string{}
	for _, f := range fs {
		switch f.RuleID {
		case "DV7002":
			keys++
		case "DV2029":
			notes = append(notes, f.Message)
		}
	}
	if keys != MaxLayerSecrets {
		t.Errorf("%d keys reported, want the layer's cap %d", keys, MaxLayerSecrets)
	}
	st := scan.Stats()
	if st.Capped != 1 || st.Dropped != MaxLayerSecrets/2 || st.DroppedFiles != MaxLayerSecrets/2 {
		t.Errorf("stats: %+v", st)
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{
		"/app/dump.txt holds more than 1000 secrets (the secret scan's cap per file)",
		"500 more secrets in 500 files were found but not reported: the secret scan reports at most 1000 per layer",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("no DV2029 finding says %q; got:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "AKIA") {
		t.Errorf("a cap finding shows a key: %s", joined)
	}
}
