package main

import (
	"testing"

	"github.com/dockvet/dockvet/internal/fuzztest"
)

// The readers of the peers' suites take whatever a checkout holds: no
// input may panic or hang them.

func FuzzHadolintCases(f *testing.F) {
	f.Add("it \"x\" $ do\n  ruleCatches \"DL3008\" \"RUN apt-get install python\"\n")
	f.Add("let dockerFile =\n      [ \"FROM a\",\n        \"RUN b \\\n        \\c\"\n      ]\n in ruleCatchesNot \"DL3000\" $ Text.unlines dockerFile\n")
	f.Add("let x = x in ruleCatches \"DL1\" x\n{- a {- nested -} comment -}\n")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, src string) {
		defer fuzztest.Budget(t)()
		hadolintCases("Spec.hs", src, map[string]int{})
	})
}

func FuzzRegoTests(f *testing.F) {
	f.Add("test_a if {\n\tr := deny with input as {\"Stages\": [{\"Name\": \"a\", \"Commands\": [{\"Cmd\": \"from\", \"Value\": [\"a\"]}]}]}\n\tcount(r) == 1\n}\n")
	f.Add("f(a) := {\"Cmd\": a}\ntest_b[name] if {\n\tsome name, tc in {\"x\": {\"cmds\": [f(\"run\")], \"expected\": 0}}\n\tr := deny with input as {\"Stages\": [{\"Name\": \"a\", \"Commands\": tc.cmds}]}\n\tcount(r) == tc.expected\n}\n")
	f.Add("test_c if {\n\tevery tt in {1, 2} {\n\t\tr := deny with input as tt\n\t\tcount(r) = 0\n\t}\n}\n")
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, src string) {
		defer fuzztest.Budget(t)()
		for _, c := range readRegoTests(src, "x_test.rego", "DS-0001") {
			if c.input != nil {
				_, _ = trivyDockerfile(c.input)
			}
		}
	})
}
