package cli

import (
	"context"
	"time"

	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/host"
	"github.com/dockvet/dockvet/internal/watch"
)

// Factory is what commands are built from: the shared flags with the
// run's streams and clock, and the way to reach the Docker Engine. Tests
// build one with buffers, a fixed clock or a fake Engine.
type Factory struct {
	Shared *Shared
	// Engine connects to the Docker Engine (container, host, watch, and
	// the Engine's digests of a local image for image --verify).
	Engine func(context.Context) (EngineClient, error)
}

// NewFactory is the Factory of a real run: the wall clock and the Engine
// the flags and environment name, as the Docker CLI resolves it.
func NewFactory(s Streams) *Factory {
	sh := &Shared{IO: s, Now: time.Now}
	return &Factory{Shared: sh, Engine: sh.connectEngine}
}

// EngineClient is the part of the Engine API the commands use: what the
// host snapshot, the live container audit and watch ask, and Close. The
// official client satisfies it; tests give a fake that answers from
// recorded Engine data.
type EngineClient interface {
	host.EngineAPI
	watch.Client
	Close() error
}

var _ EngineClient = (*client.Client)(nil)
