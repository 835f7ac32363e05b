package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/dockvet/dockvet/internal/fleet/fleettest"
	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/server"
)

// browser finds headless Chromium (Debian's chromium package): the test
// skips without one, and fails under DOCKVET_REQUIRE_BROWSER=1.
func browser(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DOCKVET_REQUIRE_BROWSER") == "1" {
		t.Fatal("DOCKVET_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); DOCKVET_REQUIRE_BROWSER=1 makes this a failure")
	return ""
}

// TestWebPage opens the fleet's page in headless Chromium: the overview
// (images by worst severity and by practice, the changes since the last
// database update), an image's page (the CLI's HTML report) and the
// advisory search, and checks that nothing is loaded from anywhere but
// the server and that the browser reports no policy violation.
func TestWebPage(t *testing.T) {
	exe := browser(t)
	d := fleettest.DSNs(t)[0]
	tokens, _ := server.ParseTokens([]byte("read browser-token-0123456789\n"))
	e := newEnv(t, d.URL, server.Options{Tokens: tokens})
	ref, digest := e.push(t, "team/web", "1")
	j, err := e.svc.Submit(context.Background(), ref, "api", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if j = e.waitJob(t, j.ID); j.State != store.JobDone {
		t.Fatalf("job: %+v", j)
	}
	if _, err := e.svc.Import(context.Background(), fleettest.WriteOSV(t, fleettest.Advisory{ID: "DVTEST-0042", Package: "demo", Fixed: "9.9"}), "test"); err != nil {
		t.Fatal(err)
	}
	base := e.srv.URL

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	var requested, problems []string
	listen := func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested = append(requested, ev.Request.URL)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				problems = append(problems, fmt.Sprintf("%s: %s (%s)", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}
	if err := chromedp.Listen(ctx, listen); err != nil {
		t.Fatalf("browser: %v", err)
	}
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %s: %v", step, err)
		}
	}
	_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	must("network", err)
	_, err = chromedp.Call(ctx, log.Enable, cdp.Empty{})
	must("log", err)
	// Without a token the browser is sent to sign in.
	must("open /", chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(`input[name=token]`)))
	loginTitle, err := chromedp.Run(ctx, chromedp.Title())
	must("title", err)
	must("sign in", chromedp.Do(ctx, chromedp.SetValue(`input[name=token]`, "browser-token-0123456789"), chromedp.Submit(`input[name=token]`),
		chromedp.WaitVisible(`//h1[text()="Fleet overview"]`)))
	overview, err := chromedp.Run(ctx, chromedp.Text(`body`))
	must("overview", err)
	link, err := chromedp.Run(ctx, chromedp.AttributeValue(`a[href^="/images/"]`, "href"))
	must("image link", err)
	imageLink := link.Value
	must("image page", chromedp.Do(ctx, chromedp.Click(`a[href^="/images/"]`), chromedp.WaitVisible(`//h1[contains(., "report")]`)))
	imagePage, err := chromedp.Run(ctx, chromedp.Text(`body`))
	must("image page text", err)
	must("search", chromedp.Do(ctx, chromedp.Navigate(base+"/advisories"), chromedp.WaitVisible(`input[name=id]`),
		chromedp.SetValue(`input[name=id]`, "DVTEST-0042"), chromedp.Submit(`input[name=id]`),
		chromedp.WaitVisible(`//h2[contains(., "DVTEST-0042")]`)))
	search, err := chromedp.Run(ctx, chromedp.Text(`body`))
	must("search text", err)
	if dir := os.Getenv("DOCKVET_SCREENSHOT_DIR"); dir != "" {
		for name, u := range map[string]string{"overview": base + "/", "image": base + imageLink, "search": base + "/advisories?id=DVTEST-0042"} {
			if err := chromedp.Do(ctx, chromedp.Navigate(u)); err == nil {
				if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
					os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
				}
			}
		}
	}
	if !strings.Contains(loginTitle, "Sign in") {
		t.Errorf("without a token: %q", loginTitle)
	}
	for _, want := range []string{"1 image indexed", "Images by worst severity", "CRITICAL", "vulnerabilities", "Since the last database update",
		"1 new and 0 fixed vulnerability in 1 image", "DVTEST-0042", ref} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview lacks %q:\n%s", want, overview)
		}
	}
	if imageLink != "/images/"+digest {
		t.Errorf("image link %q", imageLink)
	}
	for _, want := range []string{"dockvet test report", ref, "DV6001", "DVTEST-0042"} {
		if !strings.Contains(imagePage, want) {
			t.Errorf("the image page lacks %q:\n%s", want, imagePage)
		}
	}
	if !strings.Contains(search, ref) {
		t.Errorf("the advisory search does not list %s:\n%s", ref, search)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range requested {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page loaded %s", u)
		}
	}
	if len(problems) > 0 {
		t.Errorf("the browser reported:\n%s", strings.Join(problems, "\n"))
	}
	b, _ := json.Marshal(requested)
	t.Logf("requests: %s", b)
}
