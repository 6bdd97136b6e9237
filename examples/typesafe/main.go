// Command typesafe is NetMessage's typed example: a server and a client
// that share packet definitions (package packets) and exchange messages and
// requests in both directions, each checked by the compiler.
//
// With no flags it runs a self-contained demo in one process:
//
//	go run ./examples/typesafe
//
// With -server or -client it runs one end, reading commands from standard
// input (one per line):
//
//	go run ./examples/typesafe -server -addr 127.0.0.1:7401
//	go run ./examples/typesafe -client -addr 127.0.0.1:7401
//
// Every call carries a shared token (-token) in its metadata, added by an
// outbound interceptor; each end's inbound interceptor refuses calls
// without it. -log info or -log debug logs sessions, errors and each call
// to standard error with log/slog.
//
// Commands: "m TEXT" sends a chat message (the server broadcasts it),
// "w CITY" asks for the weather, "t" asks for the time (the server asks
// every client), "q" quits gracefully.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/typesafe/packets"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/serializers/json"
	"github.com/netmessage-go/netmessage/serializers/msgpack"
	"github.com/netmessage-go/netmessage/serializers/xml"
)

func main() {
	server := flag.Bool("server", false, "run a server reading commands from stdin")
	client := flag.Bool("client", false, "run a client reading commands from stdin")
	addr := flag.String("addr", "127.0.0.1:7401", "address to listen on or connect to")
	serName := flag.String("serializer", "msgpack", "serializer: msgpack, json or xml")
	token := flag.String("token", "typesafe-demo", "shared secret each call carries; calls without it are refused")
	logLevel := flag.String("log", "off", "log to standard error with log/slog: off, info or debug (each call)")
	flag.Parse()

	ser, err := serializer(*serName)
	var logger *slog.Logger
	if err == nil {
		logger, err = newLogger(*logLevel, os.Stderr)
	}
	set := settings{ser: ser, token: *token, logger: logger}
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		switch {
		case *server && *client:
			err = fmt.Errorf("choose -server or -client, not both")
		case *server:
			err = runServer(ctx, *addr, set, os.Stdin, os.Stdout)
		case *client:
			err = runClient(ctx, *addr, set, os.Stdin, os.Stdout)
		default:
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err = demo(dctx, os.Stdout, set)
			cancel()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "typesafe:", err)
		os.Exit(1)
	}
}

// newLogger returns a text logger to w for the level name, or nil for
// "off".
func newLogger(level string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	switch level {
	case "off":
		return nil, nil
	case "info":
		l = slog.LevelInfo
	case "debug":
		l = slog.LevelDebug
	default:
		return nil, fmt.Errorf("unknown log level %q (want off, info or debug)", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func serializer(name string) (netmessage.Serializer, error) {
	switch name {
	case "msgpack":
		return msgpack.New(), nil
	case "json":
		return json.New(), nil
	case "xml":
		return xml.New(), nil
	}
	return nil, fmt.Errorf("unknown serializer %q (want msgpack, json or xml)", name)
}

// commands reads lines from in and sends each to do until in ends, ctx ends,
// or do returns false.
func commands(ctx context.Context, in io.Reader, do func(cmd, arg string) bool) {
	ctx, cancel := context.WithCancel(ctx) // ends the reader when we return
	defer cancel()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case line, ok := <-lines:
			if !ok {
				return
			}
			cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
			if !do(cmd, strings.TrimSpace(arg)) {
				return
			}
		}
	}
}

const help = `commands: "m TEXT" message, "w CITY" weather request, "t" time request, "q" quit`

func runServer(ctx context.Context, addr string, set settings, in io.Reader, w io.Writer) error {
	out := &printer{w: w}
	mux, err := set.mux(out, "server")
	if err != nil {
		return err
	}
	srv := netmessage.NewServer(mux,
		base.OnSessionOpened(func(s *base.Session) {
			out.printf("session %d opened from %s", s.ID(), s.RemoteAddr())
		}),
		base.OnSessionClosed(func(s *base.Session, reason base.CloseReason) {
			out.printf("session %d closed: %s", s.ID(), reason.String())
		}),
		base.OnError(func(_ *base.Session, err error) { out.printf("error: %v", err) }),
	)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	out.printf("listening on %s; %s", ln.Addr(), help)

	seq := 0
	commands(ctx, in, func(cmd, arg string) bool {
		var err error
		switch cmd {
		case "m":
			seq++
			err = netmessage.Broadcast(ctx, srv, packets.ChatMessage{From: "server", Text: arg, Seq: seq})
		case "w", "t":
			for _, s := range srv.Sessions() {
				if cmd == "w" {
					err = askWeather(ctx, s, out, fmt.Sprintf("session %d", s.ID()), arg)
				} else {
					err = askTime(ctx, s, out, fmt.Sprintf("session %d", s.ID()))
				}
				if err != nil {
					out.printf("%v", err)
				}
			}
			err = nil
		case "q":
			return false
		case "":
		default:
			out.printf("%s", help)
		}
		if err != nil {
			out.printf("%v", err)
		}
		return true
	})
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, base.ErrServerClosed) {
		return errors.Join(serr, err)
	}
	out.printf("server shut down")
	return err
}

func runClient(ctx context.Context, addr string, set settings, in io.Reader, w io.Writer) error {
	out := &printer{w: w}
	closed := make(chan struct{})
	var closeOnce sync.Once
	mux, err := set.mux(out, "client")
	if err != nil {
		return err
	}
	client := netmessage.NewClient(mux,
		base.OnConnected(func(*base.Session) { out.printf("connected to %s; %s", addr, help) }),
		base.OnDisconnected(func(_ *base.Session, reason base.CloseReason) {
			out.printf("disconnected: %s", reason.String())
			closeOnce.Do(func() { close(closed) })
		}),
		base.OnError(func(_ *base.Session, err error) { out.printf("error: %v", err) }),
	)
	if err := client.Connect(ctx, addr); err != nil {
		return err
	}
	defer client.Close()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-closed: // the server went away: stop reading commands
			cancel()
		case <-cctx.Done():
		}
	}()
	seq := 0
	commands(cctx, in, func(cmd, arg string) bool {
		var err error
		switch cmd {
		case "m":
			seq++
			err = netmessage.Send(cctx, client, packets.ChatMessage{From: "client", Text: arg, Seq: seq})
		case "w":
			err = askWeather(cctx, client, out, "client", arg)
		case "t":
			err = askTime(cctx, client, out, "client")
		case "q":
			return false
		case "":
		default:
			out.printf("%s", help)
		}
		if err != nil {
			out.printf("%v", err)
		}
		return true
	})
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	open := client.Session().Err() == nil // else the server closed it, as printed
	err = client.Disconnect(dctx)
	<-closed
	if open {
		return err // nil for a graceful disconnect
	}
	return nil
}
