package cli

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/dockvet/dockvet/internal/testenv"
)

// browserPage is a headless Chromium tab that records what the page asks
// of the network and what it logs.
type browserPage struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	problems []string
}

func newBrowserPage(t *testing.T) *browserPage {
	exe := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	b := &browserPage{t: t, ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				b.problems = append(b.problems, fmt.Sprintf("%s: %s", ev.Entry.Level, ev.Entry.Text))
			}
		case *runtime.EventExceptionThrown:
			b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
		}
	}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("browser: %v", err)
	}
	return b
}

func (b *browserPage) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", step, err)
	}
}

func (b *browserPage) eval(js string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", js, err)
	}
	return v
}

func (b *browserPage) number(js string) int {
	b.t.Helper()
	f, ok := b.eval(js).(float64)
	if !ok {
		b.t.Fatalf("%s: not a number", js)
	}
	return int(f)
}

// visible counts the elements matching sel that are rendered.
func (b *browserPage) visible(sel string) int {
	return b.number(fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(e => e.getClientRects().length > 0).length`, sel))
}

// overflowing lists the rendered elements whose right edge passes the
// viewport, and says whether the page scrolls sideways.
func (b *browserPage) overflowing() string {
	v := b.eval(`(() => {
		const w = document.documentElement.clientWidth, out = [];
		if (document.documentElement.scrollWidth > w) out.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + w);
		for (const e of document.querySelectorAll("body *")) {
			const r = e.getBoundingClientRect();
			if (e.getClientRects().length && r.right > w + 0.5) out.push(e.tagName.toLowerCase() + "." + e.className + " ends at " + Math.round(r.right));
		}
		return out.slice(0, 10).join("; ");
	})()`)
	s, _ := v.(string)
	return s
}

// inkRatio is the share of a screenshot's pixels that are not the
// background: an empty or blank page has (almost) none.
func inkRatio(t *testing.T, shot []byte) float64 {
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	bounds := img.Bounds()
	ink, all := 0, 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			all++
			if r < 0xe000 || g < 0xe000 || bl < 0xe000 {
				ink++
			}
		}
	}
	return float64(ink) / float64(all)
}

// minInk is the share of non-background pixels below which a screenshot is
// an empty page (the scan report's first screen measures about 0.1).
const minInk = 0.02

// htmlReport writes a command's HTML report to a file and returns its URL.
func htmlReport(t *testing.T, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".html")
	code, _, errOut := run(t, append(args, "--format", "html", "--output", out)...)
	if code == ExitError {
		t.Fatalf("%v: exit 2: %s", args, errOut)
	}
	return "file://" + out
}

// TestHTMLReportInBrowser opens the HTML reports of `dockvet scan
// examples/insecure-app` and `dockvet host` in headless Chromium at 600
// pixels: the chart, the practice groups and the benchmark are there,
// nothing passes the right edge (checked element by element), the filters
// hide and show what they say, printing hides the filters and overflows
// nothing, nothing is fetched from the network and nothing is logged, and
// a screenshot holds a page (the same measure fails on an empty one).
func TestHTMLReportInBrowser(t *testing.T) {
	scanURL := htmlReport(t, "scan", "scan", example)
	root := hostTree(t, `{"hosts": ["tcp://0.0.0.0:2375", "unix:///var/run/docker.sock"], "icc": true}`)
	hostURL := htmlReport(t, "host", "host", "--root", root, "--no-engine")
	b := newBrowserPage(t)
	b.do("viewport", chromedp.EmulateViewport(600, 900))

	// An empty page: the screenshot measure must be able to fail.
	empty := filepath.Join(t.TempDir(), "empty.html")
	os.WriteFile(empty, []byte("<!DOCTYPE html><html><body></body></html>"), 0o644)
	b.do("empty page", chromedp.Navigate("file://"+empty))
	shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if r := inkRatio(t, shot); r >= minInk {
		t.Fatalf("an empty page measures %.3f, not below %.3f: the screenshot check cannot fail", r, minInk)
	}

	// The scan report.
	b.do("scan report", chromedp.Navigate(scanURL), chromedp.WaitReady(`body`))
	shot, err = chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if r := inkRatio(t, shot); r < minInk {
		t.Errorf("the scan report's screenshot is empty (%.3f of its pixels are not background)", r)
	}
	saveShot(t, "scan-600.png", shot)
	if n := b.visible(".chart .row"); n < 5 {
		t.Errorf("chart rows: %d", n)
	}
	all := b.visible(".finding")
	groups := b.visible("main .group")
	if all != 73 || groups < 10 {
		t.Errorf("findings shown: %d, practice groups: %d", all, groups)
	}
	if txt := b.eval(`document.querySelector("main .group blockquote").textContent`).(string); !strings.Contains(txt, "Docker") {
		t.Errorf("the first group does not quote the seed: %q", txt)
	}
	if o := b.overflowing(); o != "" {
		t.Errorf("at 600 px: %s", o)
	}
	// Severity: unchecking critical hides exactly the critical findings.
	crit := b.visible(".finding.s-critical")
	b.do("uncheck critical", chromedp.Click(`label[for="fs-critical"]`))
	if n := b.visible(".finding"); crit == 0 || n != all-crit || b.visible(".finding.s-critical") != 0 {
		t.Errorf("without critical: %d shown of %d (%d critical)", n, all, crit)
	}
	b.do("check critical", chromedp.Click(`label[for="fs-critical"]`))
	// Surface: compose findings go, and a group left empty goes too.
	b.do("uncheck compose", chromedp.Click(`label[for="fk-compose"]`))
	if b.visible(".finding.k-compose") != 0 || b.visible(".finding") == all {
		t.Error("the compose filter hides nothing")
	}
	b.do("uncheck container", chromedp.Click(`label[for="fk-container"]`))
	if b.visible(`#p-resource-limits`) != 0 || b.visible(`#p-secrets`) == 0 {
		t.Error("resource limits are only in Compose and docker run lines: their group goes with them, and only theirs")
	}
	b.do("check compose", chromedp.Click(`label[for="fk-compose"]`), chromedp.Click(`label[for="fk-container"]`))
	// Target: the first target's findings go.
	b.do("uncheck target", chromedp.Click(`label[for="ft-0"]`))
	if b.visible(".finding.t-0") != 0 || b.visible(".finding.t-1") == 0 {
		t.Error("the target filter does not hide that target alone")
	}
	b.do("check target", chromedp.Click(`label[for="ft-0"]`))
	for _, s := range []string{"critical", "high", "medium", "low", "info"} {
		b.do("uncheck "+s, chromedp.Click(`label[for="fs-`+s+`"]`))
	}
	if b.visible(".finding") != 0 || b.visible("main .group") != 0 {
		t.Error("with every severity unchecked, findings or groups remain")
	}
	for _, s := range []string{"critical", "high", "medium", "low", "info"} {
		b.do("check "+s, chromedp.Click(`label[for="fs-`+s+`"]`))
	}
	if b.visible(".finding") != all {
		t.Error("checking everything again does not bring every finding back")
	}
	// Printed: no filters, no overflow, a real PDF.
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if b.visible("#filters") != 0 || b.visible(".finding") != all {
		t.Error("printed: the filters must go and every finding stay")
	}
	if o := b.overflowing(); o != "" {
		t.Errorf("printed: %s", o)
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Call(b.ctx, page.PrintToPDF, page.PrintToPDFParams{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf.Data, []byte("%PDF")) || len(pdf.Data) < 20_000 {
		t.Errorf("printed PDF: %d bytes", len(pdf.Data))
	}

	// The host report: the benchmark table with its score explained.
	b.do("host report", chromedp.Navigate(hostURL), chromedp.WaitVisible(`#benchmark`))
	if n := b.visible("#benchmark table.bench tbody tr"); n < 50 {
		t.Errorf("benchmark rows: %d", n)
	}
	if txt := b.eval(`document.querySelector("#benchmark .score").textContent`).(string); !strings.Contains(txt, "automated checks passed") {
		t.Errorf("the score is not explained: %q", txt)
	}
	if b.visible(".chart .row") == 0 || b.visible("main .group") == 0 {
		t.Error("the host report has no chart or practice groups")
	}
	if o := b.overflowing(); o != "" {
		t.Errorf("host at 600 px: %s", o)
	}
	shot, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, "host-600.png", shot)

	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.requests {
		if !strings.HasPrefix(u, "file://") {
			t.Errorf("the report fetched %s", u)
		}
	}
	for _, p := range b.problems {
		t.Errorf("browser: %s", p)
	}
}

// saveShot keeps a screenshot when DOCKVET_SCREENSHOT_DIR names a
// directory, to look at.
func saveShot(t *testing.T, name string, shot []byte) {
	if dir := os.Getenv("DOCKVET_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
			t.Log(err)
		}
	}
}
