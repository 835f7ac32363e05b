package dockerfile

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// historySeeds are created_by records as the builders write them.
var historySeeds = []string{
	"/bin/sh -c #(nop) ADD file:4b0d6a7e2c1f0a9e8d7c6b5a49382716 in / ",
	`/bin/sh -c #(nop)  CMD ["bash"]`,
	"/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin LANG=C.UTF-8",
	"/bin/sh -c #(nop)  MAINTAINER dev@example.com",
	"/bin/sh -c #(nop)  ARG NPM_TOKEN",
	"|1 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 /bin/sh -c npm ci",
	"/bin/sh -c apt-get update && apt-get install -y curl",
	"/bin/sh -c #(nop)  EXPOSE map[22/tcp:{} 80/tcp:{}]",
	`/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/ || exit 1"] "30s" "3s" "0s" "0s" '\x03'}`,
	"/bin/sh -c #(nop) COPY dir:0a1b2c3d in /app ",
	"/bin/sh -c #(nop) WORKDIR /app",
	"RUN /bin/sh -c curl -fsSL https://get.example.com/install.sh | sh # buildkit",
	"RUN |2 VERSION=1.2.3 TOKEN=two words /bin/sh -c make install # buildkit",
	"ENV AWS_SECRET_ACCESS_KEY=q8Vh2Lr9TzX4mN7pK1sW6yB3cF5gJ0dA+eR2uI9o",
	"USER root",
	"ARG NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789",
	"WORKDIR /app",
	"COPY --chown=app:app --chmod=0777 id_rsa /root/.ssh/id_rsa # buildkit",
	"ADD https://example.com/assets.tar.gz /opt/assets/ # buildkit",
	"COPY <<EOF /etc/motd # buildkit",
	"EXPOSE [22/tcp 2375/tcp]",
	"VOLUME [/var/run/docker.sock]",
	"SHELL [/bin/bash -o pipefail -c]",
	"RUN /bin/bash -o pipefail -c curl -s https://x | tar x # buildkit",
	`CMD ["/bin/sh" "-c" "python app.py"]`,
	`ENTRYPOINT ["/app"]`,
	"HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:30s Timeout:3s StartPeriod:0s StartInterval:0s Retries:3}",
	"HEALTHCHECK {Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}",
	"LABEL org.opencontainers.image.authors=Ops <ops@example.com> deploy.key=x",
	"STOPSIGNAL SIGTERM",
	"RUN /bin/sh -c cat <<EOF > /etc/app.conf\nkey=value\nEOF # buildkit",
	"RUN /app/setup --init # buildkit",
	"cmd /S /C dir",
	"ko",
	"",
	"USER app\nRUN curl https://x | sh",
}

// TestParseHistory rebuilds a Dockerfile from records of both builders
// and checks every instruction and the entry it came from.
func TestParseHistory(t *testing.T) {
	records := []string{
		/* 0 */ "/bin/sh -c #(nop) ADD file:4b0d6a7e2c1f in / ",
		/* 1 */ `/bin/sh -c #(nop)  CMD ["bash"]`,
		/* 2 */ "/bin/sh -c #(nop)  ARG NPM_TOKEN",
		/* 3 */ "|1 NPM_TOKEN=npm_abc /bin/sh -c npm ci",
		/* 4 */ "|1 NPM_TOKEN=npm_abc /bin/sh -c npm test",
		/* 5 */ "RUN |2 VERSION=1.2.3 NOTE=two words /bin/sh -c make # buildkit",
		/* 6 */ "ENV A=1 B=two words",
		/* 7 */ "SHELL [/bin/bash -o pipefail -c]",
		/* 8 */ "RUN /bin/bash -o pipefail -c curl -s https://x | sh # buildkit",
		/* 9 */ "RUN /bin/sh -c echo back to sh # buildkit",
		/* 10 */ "RUN /bin/sh -c printf 'a\\n' \\ # buildkit",
		/* 11 */ "RUN /bin/sh -c cat <<EOF > /x\nv=1\nEOF # buildkit",
		/* 12 */ "ko build ./cmd/app",
		/* 13 */ `CMD ["/bin/sh" "-c" "python app.py"]`,
		/* 14 */ "EXPOSE map[22/tcp:{} 80/tcp:{}]",
		/* 15 */ "USER a\nRUN b",
		/* 16 */ "COPY <<EOF /etc/motd # buildkit",
		/* 17 */ "RUN /app/setup --init # buildkit",
		/* 18 */ "HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:30s Timeout:3s StartPeriod:0s StartInterval:0s Retries:3}",
	}
	h, err := ParseHistory(records)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		entry int
		text  string
	}
	wants := []want{
		{-1, "FROM scratch"},
		{0, `ADD ["file:4b0d6a7e2c1f","/"]`},
		{1, `CMD ["bash"]`},
		{2, "ARG NPM_TOKEN"},
		{3, "ARG NPM_TOKEN=npm_abc"},
		{3, "RUN npm ci"},
		{4, "RUN npm test"},
		{5, "ARG VERSION=1.2.3"},
		{5, `ARG NOTE="two words"`},
		{5, "RUN make"},
		{6, `ENV A=1 B="two words"`},
		{7, `SHELL ["/bin/bash","-o","pipefail","-c"]`},
		{8, "RUN curl -s https://x | sh"},
		{9, `SHELL ["/bin/sh","-c"]`},
		{9, "RUN echo back to sh"},
		{10, "RUN <<'DOCKVET_EOF'"},
		{11, "RUN <<'DOCKVET_EOF'"},
		{13, "CMD python app.py"},
		{14, "EXPOSE 22/tcp 80/tcp"},
		{16, `COPY ["EOF","/etc/motd"]`},
		{17, `RUN ["/app/setup","--init"]`},
		{18, "HEALTHCHECK CMD curl -f http://localhost/"},
	}
	var got []want
	for _, in := range h.File.Instructions {
		got = append(got, want{h.Entry(in.Line), in.Original})
	}
	if !slices.Equal(got, wants) {
		t.Errorf("rebuilt file:\n%s\ngot  %v\nwant %v", strings.Join(h.File.Lines, "\n"), got, wants)
	}
	if !slices.Equal(h.Skipped, []int{12, 15}) {
		t.Errorf("skipped %v, want the records that are no instruction: [12 15]", h.Skipped)
	}
	for _, in := range h.File.Instructions {
		switch e := h.Entry(in.Line); e {
		case 8:
			if in.Script == nil || len(in.Script.Commands) != 2 {
				t.Errorf("entry 8: the RUN's script is not parsed: %v", in.ScriptErr)
			}
		case 10:
			if in.Script == nil || in.Script.Commands[0].Name != "printf" {
				t.Errorf("entry 10: the script ending in a backslash is not the RUN's: %v", in.ScriptErr)
			}
		case 11:
			if in.Script == nil || in.Script.Commands[0].Name != "cat" {
				t.Errorf("entry 11: the here-document script is not the RUN's: %v", in.ScriptErr)
			}
		}
	}
}

func TestParseHistoryStep(t *testing.T) {
	for _, tc := range []struct {
		in        string
		kw, args  string
		shell     []string
		buildArgs []HistoryArg
	}{
		{"/bin/sh -c #(nop)  ENV A=b", "ENV", "A=b", nil, nil},
		{"/bin/sh -c apt-get update", "RUN", "apt-get update", []string{"/bin/sh", "-c"}, nil},
		{"|2 A=1 B=x y /bin/sh -c make", "RUN", "make", []string{"/bin/sh", "-c"}, []HistoryArg{{"A", "1"}, {"B", "x y"}}},
		{"RUN |1 T=ghp_x /app/run # buildkit", "RUN", "/app/run", nil, []HistoryArg{{"T", "ghp_x"}}},
		{"RUN /bin/bash -eo pipefail -c set -x # buildkit", "RUN", "set -x", []string{"/bin/bash", "-eo", "pipefail", "-c"}, nil},
		{"cmd /S /C dir", "RUN", "dir", []string{"cmd", "/S", "/C"}, nil},
		{"ADD file:4b0d in /srv/ ", "ADD", "file:4b0d in /srv/", nil, nil},
		{"USER app # buildkit", "USER", "app", nil, nil},
		{"jib-maven-plugin:3.4.0", "", "jib-maven-plugin:3.4.0", nil, nil},
	} {
		st := ParseHistoryStep(tc.in)
		if st.Keyword != tc.kw || st.Args != tc.args || !slices.Equal(st.Shell, tc.shell) || !slices.Equal(st.BuildArgs, tc.buildArgs) {
			t.Errorf("ParseHistoryStep(%q) = %+v", tc.in, st)
		}
	}
}

// FuzzParseHistory feeds arbitrary records (separated by \x1f) to the
// rebuild: it never fails, and every line of the file it makes comes from
// an entry it did not skip.
func FuzzParseHistory(f *testing.F) {
	f.Add(strings.Join(historySeeds, "\x1f"))
	for _, s := range historySeeds {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data string) {
		defer fuzztest.Budget(t)()
		records := strings.Split(data, "\x1f")
		h, err := ParseHistory(records)
		if err != nil {
			t.Fatalf("every record parses alone, but not the file: %v\n%q", err, records)
		}
		if h.Entry(1) != -1 {
			t.Fatalf("line 1 is the FROM, not entry %d", h.Entry(1))
		}
		for l := 2; l <= len(h.entryOf); l++ {
			e := h.Entry(l)
			if e < 0 || e >= len(records) || slices.Contains(h.Skipped, e) {
				t.Fatalf("line %d comes from entry %d (skipped %v, %d records)", l, e, h.Skipped, len(records))
			}
		}
		for _, in := range h.File.Instructions {
			if in.Line > 1 && h.Entry(in.Line) < 0 {
				t.Fatalf("instruction on line %d has no entry", in.Line)
			}
		}
	})
}
