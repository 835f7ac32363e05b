package runline

import (
	"fmt"
	"strings"
	"testing"
)

const benchLine = "docker run -d --name api --restart unless-stopped --cap-drop ALL --cap-add NET_BIND_SERVICE " +
	"--security-opt no-new-privileges --read-only --tmpfs /tmp -m 512m --cpus 1.5 --pids-limit 200 -u 10001:10001 " +
	"-p 127.0.0.1:8080:8080 -v /srv/api:/data:ro --mount type=bind,src=/etc/ssl/certs,dst=/etc/ssl/certs,readonly " +
	"-e LOG_LEVEL=info -e DB_PASSWORD=s3cr3t-Pa55w0rd --ulimit nofile=65536:65536 registry.example.com/api:1.4.2 serve"

// BenchmarkParse is one realistic `docker run` line into a spec.
func BenchmarkParse(b *testing.B) {
	c := Command{Args: strings.Fields(benchLine)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(c, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromShell is finding the commands of a 2,000-line script with
// 200 `docker run` lines (continuations included).
func BenchmarkFromShell(b *testing.B) {
	var sb strings.Builder
	for i := range 200 {
		fmt.Fprintf(&sb, "echo step %d\nif [ -n \"$X\" ]; then\n  mkdir -p /tmp/%d\nfi\n", i, i)
		fmt.Fprintf(&sb, "sudo %s \\\n  --label step=%d\n", strings.Replace(benchLine, " serve", "", 1), i)
		sb.WriteString("cat <<EOF\nnothing\nEOF\n")
	}
	src := []byte(sb.String())
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		cmds, err := FromShell("bench.sh", src)
		if err != nil || len(cmds) != 200 {
			b.Fatalf("%d commands, %v", len(cmds), err)
		}
	}
}
