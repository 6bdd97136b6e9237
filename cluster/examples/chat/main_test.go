package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log("\n" + out.String())
	for _, want := range []string{
		`bob hears alice in lobby: "hello, lobby"`,
		`carol hears alice in lobby: "hello, lobby"`,
		`bob hears alice privately: "are you there?"`,
		`carol asks bob the time: "half past four"`,
		"carol asks dave:",
		"no session bound to the key",
		"north killed",
		`alice hears bob in lobby: "north is gone, we carry on"`,
		"presence: west has [bob]",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "north has") && strings.Count(out.String(), "north has") != 1 {
		t.Errorf("north still in presence after it was killed")
	}
}
