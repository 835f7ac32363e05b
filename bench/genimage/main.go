// Command genimage writes the benchmarks' synthetic images as OCI layouts,
// and measures the floor: the time to merely inflate and read an image's
// layers, which every ratio in bench/ is taken against.
//
//	go run ./bench/genimage perf DIR          the performance image (1.1 GiB of files, 10 layers)
//	go run ./bench/genimage small N DIR       one layer of N entries (small text files)
//	go run ./bench/genimage floor DIR         inflate and read DIR's layers; prints seconds
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/dockvet/dockvet/bench/imagegen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "genimage:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "perf":
		return imagegen.Perf(args[1])
	case len(args) == 3 && args[0] == "small":
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 4 {
			return fmt.Errorf("small: %q is not a number of entries (at least 4)", args[1])
		}
		return imagegen.SmallFiles(args[2], n)
	case len(args) == 2 && args[0] == "floor":
		start := time.Now()
		if _, err := imagegen.Floor(args[1]); err != nil {
			return err
		}
		fmt.Printf("%.3f\n", time.Since(start).Seconds())
		return nil
	}
	return fmt.Errorf("usage: genimage perf DIR | small N DIR | floor DIR")
}
