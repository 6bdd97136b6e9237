package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/examples/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// contains reports, as test errors, each of want that out lacks.
func contains(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	start := time.Now()
	if err := demo(context.Background(), &out); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("demo took %v", d)
	}
	got := out.String()
	contains(t, got,
		"server: listening on 127.0.0.1:",
		"server: session 1 opened from 127.0.0.1:",
		"client: connected to 127.0.0.1:",
		`server: message from session 1: "hello from the client"`,
		`server: request from session 1: "how are you, server?", answering "HOW ARE YOU, SERVER?"`,
		`client: response from server: "HOW ARE YOU, SERVER?"`,
		`client: message from server: "hello from the server"`,
		`client: request from server: "and how are you, client?", answering "AND HOW ARE YOU, CLIENT?"`,
		`server: response from session 1: "AND HOW ARE YOU, CLIENT?"`,
		"client: disconnecting",
		"client: disconnected: graceful shutdown\n",
		"server: session 1 closed: graceful shutdown\n",
		"server: stopped\n",
	)
	if strings.Contains(got, "error") {
		t.Errorf("output reports an error:\n%s", got)
	}
	if !strings.HasSuffix(got, "server: stopped\n") {
		t.Errorf("output does not end with the server stopping:\n%s", got)
	}
}

// TestServerAndClient runs serve and runClient as the two processes would,
// with typed lines as the client's input.
func TestServerAndClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sctx, stopServer := context.WithCancel(ctx)
	var srvOut, cliOut bytes.Buffer
	served := make(chan error, 1)
	go func() { served <- serve(sctx, ln, &srvOut) }()

	in := strings.NewReader("hello\n?what time is it?\nbad \x04 byte\nbye\n")
	err = runClient(ctx, ln.Addr().String(), in, &cliOut)
	stopServer()
	if serr := <-served; serr != nil {
		t.Errorf("serve: %v", serr)
	}
	if err != nil {
		t.Fatalf("runClient: %v\n%s", err, cliOut.String())
	}
	contains(t, srvOut.String(),
		`server: message from session 1: "hello"`,
		`server: request from session 1: "what time is it?", answering "WHAT TIME IS IT?"`,
		`server: message from session 1: "bye"`,
		"server: session 1 closed: graceful shutdown",
		"server: stopped",
	)
	contains(t, cliOut.String(),
		`client: message from server: "welcome, you are session 1"`,
		`client: response from server: "WHAT TIME IS IT?"`,
		"client: not sent: netmessage: encode message: strproto: payload contains the terminator byte 0x04",
		"client: disconnected: graceful shutdown",
	)
}

// TestClientSeesServerShutdown checks that a client waiting for input
// returns when the server shuts down.
func TestClientSeesServerShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sctx, stopServer := context.WithCancel(ctx)
	var srvOut, cliOut exampletest.Buffer
	served := make(chan error, 1)
	go func() { served <- serve(sctx, ln, &srvOut) }()

	in, typing := net.Pipe() // input that never ends by itself
	defer typing.Close()
	defer in.Close()
	ran := make(chan error, 1)
	go func() { ran <- runClient(ctx, ln.Addr().String(), in, &cliOut) }()
	if _, err := typing.Write([]byte("?ping\n")); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(cliOut.String(), `response from server: "PING"`) {
		if ctx.Err() != nil {
			t.Fatalf("no response:\n%s", cliOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopServer()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
	if err := <-ran; err != nil {
		t.Errorf("runClient: %v", err)
	}
	in.Close() // ends the client's input goroutine
	contains(t, cliOut.String(), "client: disconnected: graceful shutdown")
}
