package cli

import (
	"fmt"
	"sync/atomic"

	"github.com/docker/go-units"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// walkProgress draws one bar on standard error while an image is read:
// layers done out of layers, and the uncompressed bytes read. It draws
// only when progress may be shown (a terminal, neither --quiet nor
// --no-progress); otherwise update is nil and done does nothing.
func (g *globals) walkProgress(ref string) (update func(layer, layers int, bytes int64), done func()) {
	if !g.progress() {
		return nil, func() {}
	}
	var layer, layers, read atomic.Int64
	// The caller decided the stream is a terminal (g.progress); mpb would
	// otherwise test it again and draw nothing for a wrapped writer.
	p := mpb.New(mpb.WithOutput(g.streams.Err), mpb.WithAutoRefresh())
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
