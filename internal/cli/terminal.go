package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/docker/go-units"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Streams are the standard streams; tests pass buffers.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// OutIsTerminal enables colour when writing to Out.
	OutIsTerminal bool
	// ErrIsTerminal enables progress bars on Err.
	ErrIsTerminal bool
	// Width is the terminal's width in columns when Out is a terminal,
	// 0 otherwise: the table wraps its columns to it.
	Width int
}

// terminalWidth is the width of f's terminal, 0 when it is none.
func terminalWidth(f *os.File) int {
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

// width is the width the table wraps to: the terminal's, when the report
// goes to it.
func (s *Shared) width() int {
	if s.Output != "" && s.Output != "-" || !s.IO.OutIsTerminal {
		return 0
	}
	return s.IO.Width
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// color reports whether to colour output written to standard output.
func (s *Shared) color() bool {
	if s.NoColor || os.Getenv("NO_COLOR") != "" || s.Output != "" {
		return false
	}
	return s.IO.OutIsTerminal && os.Getenv("TERM") != "dumb"
}

// progress reports whether progress bars may be drawn (on standard error).
func (s *Shared) progress() bool {
	return !s.NoProgress && !s.Quiet && s.IO.ErrIsTerminal
}

// interruptible is ctx cancelled on Ctrl-C, so that a long read or an
// interrupted download stops at once (and leaves the old data in place).
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt)
}

// stoppable is ctx cancelled on SIGINT or SIGTERM: how a person or a
// service manager stops `dockvet watch`.
func stoppable(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// walkProgress draws one bar on standard error while an image is read:
// layers done out of layers, and the uncompressed bytes read. It draws
// only when progress may be shown (a terminal, neither --quiet nor
// --no-progress); otherwise update is nil and done does nothing.
func (s *Shared) walkProgress(ref string) (update func(layer, layers int, bytes int64), done func()) {
	if !s.progress() {
		return nil, func() {}
	}
	var layer, layers, read atomic.Int64
	// The caller decided the stream is a terminal (s.progress); mpb would
	// otherwise test it again and draw nothing for a wrapped writer.
	p := mpb.New(mpb.WithOutput(s.IO.Err), mpb.WithAutoRefresh())
	// The counts come first: a line longer than the terminal is cut at
	// its end, and a reference can be long.
	bar := p.AddBar(0,
		mpb.PrependDecorators(
			decor.Name(tail(ref, 28), decor.WC{C: decor.DindentRight | decor.DextraSpace}),
			decor.Any(func(decor.Statistics) string {
				n := "?"
				if t := layers.Load(); t > 0 {
					n = fmt.Sprint(t)
				}
				return fmt.Sprintf("layer %d/%s, %s read ", layer.Load(), n, units.BytesSize(float64(read.Load())))
			}),
		),
	)
	update = func(l, total int, bytes int64) {
		layer.Store(int64(l))
		layers.Store(int64(total))
		read.Store(bytes)
		if total > 0 {
			bar.SetTotal(int64(total), false)
			bar.SetCurrent(int64(l - 1))
		}
	}
	done = func() {
		if t := layers.Load(); t > 0 {
			bar.SetTotal(t, true)
		} else {
			bar.Abort(true)
		}
		p.Wait()
	}
	return update, done
}

// tail shortens s to its last n characters, marking the cut.
func tail(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return "…" + string(r[len(r)-n+1:])
}

// downloadBars draws one progress bar per export on a terminal.
type downloadBars struct {
	p    *mpb.Progress
	bars map[string]*mpb.Bar
}

// downloadProgress returns the bars of `db update`, or nil when progress
// may not be shown.
func (s *Shared) downloadProgress() *downloadBars {
	if !s.progress() {
		return nil
	}
	return &downloadBars{p: mpb.New(mpb.WithOutput(s.IO.Err), mpb.WithWidth(40)), bars: map[string]*mpb.Bar{}}
}

func (d *downloadBars) update(eco string, done, total int64) {
	b := d.bars[eco]
	if b == nil {
		b = d.p.AddBar(max(total, 0),
			mpb.PrependDecorators(decor.Name(eco, decor.WC{C: decor.DindentRight | decor.DextraSpace})),
			mpb.AppendDecorators(decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
		)
		d.bars[eco] = b
	}
	if total <= 0 {
		b.SetTotal(done+1, false)
	}
	b.SetCurrent(done)
	if total > 0 && done >= total {
		b.SetTotal(total, true)
	}
}

func (d *downloadBars) wait() {
	for _, b := range d.bars {
		if !b.Completed() {
			b.Abort(false)
		}
	}
	d.p.Wait()
}
