// Command dockvet audits Dockerfiles, images, registries, Compose files,
// `docker run` lines, Docker hosts and Engine events for security.
package main

import (
	"os"

	"github.com/dockvet/dockvet/internal/cli"
)

func main() { os.Exit(cli.Main()) }
