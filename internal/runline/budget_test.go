package runline

import (
	"strings"
	"testing"
)

func nestedEval(n int, inner string) string {
	for range n {
		inner = `eval "$(` + inner + `)"`
	}
	return inner
}

func TestNestedScriptBudget(t *testing.T) {
	// Within shell.MaxDepth the docker run is found once (it was found
	// 2^levels times: a 338 MB report).
	cmds, err := FromShell("deploy.sh", []byte("#!/bin/sh\n"+nestedEval(5, "docker run --privileged alpine")+"\n"))
	if err != nil || len(cmds) != 1 {
		t.Fatalf("5 levels: %d commands, error %v", len(cmds), err)
	}
	// Past it, the commands found before the limit come with an error
	// that names the budget.
	src := "#!/bin/sh\ndocker run --rm alpine true\n" + nestedEval(30, "docker run --privileged alpine") + "\n"
	cmds, err = FromShell("deploy.sh", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "deploy.sh: command nesting exceeds 8 levels (shell.MaxDepth)") {
		t.Errorf("30 levels: error %v", err)
	}
	if len(cmds) != 1 {
		t.Errorf("30 levels: %d commands, want the one before the nesting", len(cmds))
	}
}
