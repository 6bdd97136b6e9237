package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"client: hello, Ada",
		`client: greet "": netmessage: remote invalid argument: a greeting needs a name`,
		`server: note "see you"`,
		`client: answer "with a hint: 42"`,
		"client demo.Question",
		"\n  server demo.Question",
		"\n    client demo.Hint",
		"\n      server demo.Hint",
		"rpc.response.status_code=INVALID_ARGUMENT",
		`rpc_client_call_duration_seconds_count{`,
		`rpc_server_call_duration_seconds_count{`,
		`netmessage_sessions_closed_total{`,
		`netmessage_serializer_body_size_bytes_count{`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
