// Package engine is dockvet's one way to reach a Docker Engine. Every
// surface that talks to the daemon (image sources, the host audit, live
// containers, watch) connects here, so DOCKER_HOST, TLS settings and API
// version negotiation behave the same everywhere.
package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/moby/moby/client"
)

// Connect returns a client for the Engine that the environment names
// (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH; the local socket by
// default), negotiating the API version with it. It pings the daemon, so an
// unreachable Engine is one clear error here rather than a late failure.
func Connect(ctx context.Context) (*client.Client, error) {
	c, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, fmt.Errorf("docker engine at %s is not reachable: %w", c.DaemonHost(), err)
	}
	return c, nil
}
