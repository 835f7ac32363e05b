package watch

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// burstSize is how many containers BenchmarkBurst starts.
const burstSize = 100

// BenchmarkBurst runs `dockvet watch` (the binary DOCKVET_WATCH_BIN names;
// bench/watch.sh builds it) as its own process, measures its CPU and
// memory while idle, then starts burstSize containers in quick succession
// and measures, for each, the time from the Engine's start event (and its
// create event) to the moment the container's first and last findings are
// read from watch's standard output, and watch's CPU and peak memory over
// the burst. It fails when a container's findings are not all delivered.
func BenchmarkBurst(b *testing.B) {
	bin := os.Getenv("DOCKVET_WATCH_BIN")
	if bin == "" {
		b.Skip("set DOCKVET_WATCH_BIN to a dockvet binary (bench/watch.sh does)")
	}
	l := newLab(b)
	for range b.N {
		burst(b, l, bin)
	}
}

type sighting struct {
	first, last time.Time
	rules       map[string]bool
}

func burst(b *testing.B, l *lab, bin string) {
	// The Engine's own record of each container's events.
	events := map[string]map[string]time.Time{} // name -> action -> time
	var evMu sync.Mutex
	ectx, stopEvents := context.WithCancel(context.Background())
	defer stopEvents()
	stream := l.C.Events(ectx, client.EventsListOptions{Filters: make(client.Filters).Add("type", "container").Add("event", "create", "start")})
	go func() {
		for {
			select {
			case m := <-stream.Messages:
				name := m.Actor.Attributes["name"]
				if !strings.HasPrefix(name, l.Prefix) {
					continue
				}
				evMu.Lock()
				if events[name] == nil {
					events[name] = map[string]time.Time{}
				}
				events[name][string(m.Action)] = time.Unix(0, m.TimeNano)
				evMu.Unlock()
			case <-stream.Err:
				return
			}
		}
	}()

	cmd := exec.Command(bin, "watch", "--format", "json", "--fail-on", "none", "--quiet")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	var mu sync.Mutex
	seen := map[string]*sighting{}
	changed := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			at := time.Now()
			var r Record
			if json.Unmarshal(sc.Bytes(), &r) != nil || !strings.HasPrefix(r.Target, l.Prefix) {
				continue
			}
			mu.Lock()
			s := seen[r.Target]
			if s == nil {
				s = &sighting{first: at, rules: map[string]bool{}}
				seen[r.Target] = s
			}
			s.last = at
			s.rules[r.RuleID] = true
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}()

	// Idle: what watch costs with nothing happening, once it has audited
	// what already runs.
	time.Sleep(3 * time.Second)
	cpu0, _ := procCPU(cmd.Process.Pid)
	idleRSS := procStatus(cmd.Process.Pid, "VmRSS")
	time.Sleep(5 * time.Second)
	cpu1, _ := procCPU(cmd.Process.Pid)
	idleCPU := (cpu1 - cpu0) / 5

	// The burst: eight starters create and start the containers as fast
	// as the Engine takes them.
	want := []string{"DV3003", "DV3004", "DV3009", "DV3030", "DV3031", "DV3032", "DV3071", "DV3100", "DV3101"}
	names := make(chan string, burstSize)
	for i := range burstSize {
		names <- fmt.Sprintf("burst%03d", i)
	}
	close(names)
	var ids sync.Map
	defer func() {
		var wg sync.WaitGroup
		ids.Range(func(_, v any) bool {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				l.C.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true})
			}(v.(string))
			return true
		})
		wg.Wait()
	}()
	began := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range names {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				res, err := l.C.ContainerCreate(ctx, client.ContainerCreateOptions{Name: l.Name(n),
					Config: &containertypes.Config{Image: l.Unsafe}, HostConfig: &containertypes.HostConfig{CgroupnsMode: containertypes.CgroupnsModePrivate}})
				if err == nil {
					ids.Store(n, res.ID)
					_, err = l.C.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
				}
				cancel()
				if err != nil {
					b.Errorf("%s: %v", n, err)
				}
			}
		}()
	}
	wg.Wait()
	started := time.Since(began)

	complete := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := range burstSize {
			s := seen[l.Name(fmt.Sprintf("burst%03d", i))]
			if s == nil {
				return false
			}
			for _, id := range want {
				if !s.rules[id] {
					return false
				}
			}
		}
		return true
	}
	deadline := time.After(2 * time.Minute)
	for !complete() {
		select {
		case <-changed:
		case <-deadline:
			mu.Lock()
			b.Fatalf("after 2 minutes, %d of %d containers have all their findings", len(seen), burstSize)
		}
	}
	done := time.Since(began)
	cpu2, _ := procCPU(cmd.Process.Pid)
	peakRSS := procStatus(cmd.Process.Pid, "VmHWM")

	var fromStart, fromCreate, allFromStart []time.Duration
	evMu.Lock()
	mu.Lock()
	for i := range burstSize {
		n := l.Name(fmt.Sprintf("burst%03d", i))
		s, ev := seen[n], events[n]
		if ev["start"].IsZero() || ev["create"].IsZero() {
			b.Fatalf("%s: the Engine's events were not seen", n)
		}
		fromStart = append(fromStart, s.first.Sub(ev["start"]))
		fromCreate = append(fromCreate, s.first.Sub(ev["create"]))
		allFromStart = append(allFromStart, s.last.Sub(ev["start"]))
	}
	mu.Unlock()
	evMu.Unlock()

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(burstSize), "containers-reported")
	b.ReportMetric(ms(percentile(fromStart, 50)), "ms-start-to-finding-p50")
	b.ReportMetric(ms(percentile(fromStart, 99)), "ms-start-to-finding-p99")
	b.ReportMetric(ms(percentile(allFromStart, 50)), "ms-start-to-all-p50")
	b.ReportMetric(ms(percentile(allFromStart, 99)), "ms-start-to-all-p99")
	b.ReportMetric(ms(percentile(fromCreate, 50)), "ms-create-to-finding-p50")
	b.ReportMetric(ms(percentile(fromCreate, 99)), "ms-create-to-finding-p99")
	b.ReportMetric(idleCPU*100, "%cpu-idle")
	b.ReportMetric((cpu2-cpu1)/done.Seconds()*100, "%cpu-burst")
	b.ReportMetric(float64(idleRSS)/1024, "MiB-rss-idle")
	b.ReportMetric(float64(peakRSS)/1024, "MiB-rss-peak")
	b.Logf("%d containers started in %s, all findings delivered %s after the first start; watch used %.2f s of CPU for the burst",
		burstSize, started.Round(time.Millisecond), done.Round(time.Millisecond), cpu2-cpu1)
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

// procCPU is a process's user and system CPU time, in seconds.
func procCPU(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

// procStatus reads a kB figure of /proc/PID/status (VmRSS, VmHWM).
func procStatus(pid int, key string) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
