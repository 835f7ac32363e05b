package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/dockvet/dockvet/internal/image"
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
// the layer being read of how many, and the bytes read of the total the
// source gave (the Engine, the manifest or the archive), the bar filling
// toward it. Every field has a fixed width, so the line does not move as
// the numbers grow. It draws only when progress may be shown (a terminal,
// neither --quiet nor --no-progress); otherwise update is nil and done
// does nothing.
func (s *Shared) walkProgress(ref string) (update func(image.Progress), done func()) {
	if !s.progress() {
		return nil, func() {}
	}
	var cur atomic.Pointer[image.Progress]
	cur.Store(&image.Progress{})
	// The caller decided the stream is a terminal (s.progress); mpb would
	// otherwise test it again and draw nothing for a wrapped writer.
	opts := []mpb.ContainerOption{mpb.WithOutput(s.IO.Err), mpb.WithAutoRefresh()}
	if w := s.IO.Width; w > 0 {
		opts = append(opts, mpb.WithWidth(w))
	}
	p := mpb.New(opts...)
	const refW = 24
	bar := p.New(0, mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding("-").Rbound("]"),
		mpb.PrependDecorators(
			decor.Name(pad(tail(ref, refW), refW), decor.WC{C: decor.DextraSpace}),
			decor.Any(func(decor.Statistics) string {
				pr := cur.Load()
				layers := "?"
				if pr.Layers > 0 {
					layers = fmt.Sprint(pr.Layers)
				}
				return fmt.Sprintf("layer %3d/%-3s", pr.Layer, layers)
			}, decor.WC{C: decor.DextraSpace}),
		),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string {
				pr := cur.Load()
				if pr.Total <= 0 {
					return fmt.Sprintf("%10s read", size(pr.Done))
				}
				return fmt.Sprintf("%10s / %-10s", size(min(pr.Done, pr.Total)), size(pr.Total))
			}),
		),
	)
	update = func(pr image.Progress) {
		cur.Store(&pr)
		switch {
		case pr.Total > 0:
			bar.SetTotal(pr.Total, false)
			bar.SetCurrent(min(pr.Done, pr.Total))
		case pr.Layers > 0:
			// No byte total: the bar counts layers.
			bar.SetTotal(int64(pr.Layers), false)
			bar.SetCurrent(int64(pr.Layer - 1))
		}
	}
	done = func() {
		if pr := cur.Load(); pr.Total > 0 || pr.Layers > 0 {
			bar.SetTotal(-1, true) // complete at what was read
		} else {
			bar.Abort(false)
		}
		p.Wait()
	}
	return update, done
}

// size is a byte count as the progress line shows it, always one decimal.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// pad fills s with spaces to n characters.
func pad(s string, n int) string {
	if k := len([]rune(s)); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
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
