package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/examples/internal/exampletest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDemo(t *testing.T) {
	for _, name := range []string{"msgpack", "json", "xml"} {
		t.Run(name, func(t *testing.T) {
			ser, err := serializer(name)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var out bytes.Buffer
			if err := demo(ctx, &out, settings{ser: ser, token: "t"}); err != nil {
				t.Fatalf("demo: %v\n%s", err, out.String())
			}
			for _, want := range []string{
				"server: session 1 opened",
				"client: connected",
				`server: received message #1 from client: "hello, server"`,
				`server: received a weather request for "Bonn"`,
				"client: weather in Bonn: ",
				`client: received message #1 from server: "hello, client"`,
				`client: received a weather request for "Redmond"`,
				"server: weather in Redmond: ",
				"client: received a time request",
				"server: peer's clock says",
				"remote invalid argument: no city given",
				"client: request with a wrong token refused as expected: netmessage: remote unauthenticated: request",
				"client: disconnected: graceful shutdown",
				"server: session 1 closed: graceful shutdown",
				"server: shut down",
			} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestServerAndClientProcesses drives runServer and runClient with typed
// command lines, as two separate processes would.
func TestServerAndClientProcesses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ser, _ := serializer("msgpack")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	srvIn, srvInW := io.Pipe()
	var srvOut exampletest.Buffer
	srvDone := make(chan error, 1)
	set := settings{ser: ser, token: "shared"}
	go func() { srvDone <- runServer(ctx, addr, set, srvIn, &srvOut) }()
	waitFor(t, &srvOut, "listening on")

	cliIn, cliInW := io.Pipe()
	var cliOut exampletest.Buffer
	cliDone := make(chan error, 1)
	go func() { cliDone <- runClient(ctx, addr, set, cliIn, &cliOut) }()
	waitFor(t, &cliOut, "connected to")
	waitFor(t, &srvOut, "session 1 opened")

	io.WriteString(cliInW, "m hi there\nw Bonn\nt\n")
	waitFor(t, &srvOut, `received message #1 from client: "hi there"`)
	waitFor(t, &cliOut, "client: weather in Bonn")
	waitFor(t, &cliOut, "peer's clock says")
	io.WriteString(srvInW, "m hello all\nw Oslo\n")
	waitFor(t, &cliOut, `received message #1 from server: "hello all"`)
	waitFor(t, &srvOut, "session 1: weather in Oslo")

	// A client with another token is refused by the server, and refuses
	// the server's requests.
	intruderIn, intruderInW := io.Pipe()
	var intruderOut exampletest.Buffer
	intruderDone := make(chan error, 1)
	go func() {
		intruderDone <- runClient(ctx, addr, settings{ser: ser, token: "guess"}, intruderIn, &intruderOut)
	}()
	waitFor(t, &intruderOut, "connected to")
	waitFor(t, &srvOut, "session 2 opened")
	io.WriteString(intruderInW, "w Bonn\n")
	waitFor(t, &intruderOut, "weather request: netmessage: remote unauthenticated")
	io.WriteString(srvInW, "t\n")
	waitFor(t, &srvOut, "time request: netmessage: remote unauthenticated")
	waitFor(t, &srvOut, "session 1: peer's clock says") // the admitted client answers
	io.WriteString(intruderInW, "q\n")
	if err := <-intruderDone; err != nil {
		t.Fatalf("second client: %v\n%s", err, intruderOut.String())
	}
	intruderInW.Close()

	io.WriteString(cliInW, "q\n")
	if err := <-cliDone; err != nil {
		t.Fatalf("client: %v\n%s", err, cliOut.String())
	}
	waitFor(t, &srvOut, "session 1 closed: graceful shutdown")
	srvInW.Close()
	if err := <-srvDone; err != nil {
		t.Fatalf("server: %v\n%s", err, srvOut.String())
	}
	cliInW.Close()
}

func waitFor(t *testing.T, b *exampletest.Buffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output lacks %q:\n%s", want, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerPortTaken: a server whose address is taken fails at once with
// the listen error instead of taking commands it cannot serve.
func TestServerPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	in, typing := net.Pipe() // input that never ends by itself
	defer typing.Close()
	defer in.Close()
	ser, err := serializer("msgpack")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = runServer(context.Background(), ln.Addr().String(), settings{ser: ser}, in, &out)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("runServer: %v, want the listen error", err)
	}
}

// TestDemoLogs runs the demo with a debug logger and checks its records.
func TestDemoLogs(t *testing.T) {
	ser, _ := serializer("msgpack")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	var log exampletest.Buffer
	logger, err := newLogger("debug", &log)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo(ctx, &out, settings{ser: ser, token: "t", logger: logger}); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`level=INFO msg="netmessage session opened" peer.session=1`,
		`level=INFO msg="netmessage connected"`,
		`msg="netmessage call" dir=out kind=request type=github.com/netmessage-go/netmessage/examples/typesafe/packets.WeatherRequest`,
		`msg="netmessage call" dir=in kind=message type=github.com/netmessage-go/netmessage/examples/typesafe/packets.ChatMessage`,
		`outcome=unauthenticated`,
		`outcome="invalid argument"`,
		`msg="netmessage session closed" peer.session=1`,
		`reason="graceful shutdown"`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if _, err := newLogger("loud", &log); err == nil {
		t.Error("newLogger accepted an unknown level")
	}
}
