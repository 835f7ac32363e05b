//go:build !unix

package vulndb

import "time"

func cpuTime() time.Duration { return 0 }
