package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/simplestring/strproto"
)

const (
	connectTimeout = 5 * time.Second
	closeTimeout   = 5 * time.Second // bounds a graceful disconnect or shutdown
	maxLine        = 1 << 20         // the longest line read from the input
	requestPrefix  = "?"             // marks an input line as a request
)

// runServer serves addr until ctx ends; see serve.
func runServer(ctx context.Context, addr string, w io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serve(ctx, ln, w)
}

// serve runs a server on ln that greets each session with a message,
// prints what arrives and answers requests by uppercasing them. When ctx
// ends it shuts down gracefully.
func serve(ctx context.Context, ln net.Listener, w io.Writer) error {
	out := &printer{w: w}
	ev := newEvents(out, "server")
	ev.greet = true
	srv := base.NewServer(strproto.New, ev.serverOptions()...)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	out.printf("server: listening on %s (Ctrl-C stops)", ln.Addr())

	select {
	case err := <-served: // the listener failed
		srv.Close()
		ev.wait()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	out.printf("server: shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, base.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	ev.wait()
	out.printf("server: stopped")
	return err
}

// runClient connects to addr and sends each line of in to the server: a
// line that starts with "?" as a request, printing the response, any other
// as a message. At the end of in, or when ctx ends, it disconnects
// gracefully; when the server closes the connection, it returns.
func runClient(ctx context.Context, addr string, in io.Reader, w io.Writer) error {
	out := &printer{w: w}
	ev := newEvents(out, "client")
	client := base.NewClient(strproto.New, ev.clientOptions()...)
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	err := client.Connect(cctx, addr)
	cancel()
	if err != nil {
		return err
	}
	s := client.Session()
	defer func() {
		s.Close() // does nothing after a graceful disconnect
		<-s.Done()
	}()
	if _, err := await(ctx, ev.opened, "the connected hook"); err != nil {
		return err
	}

	stop := make(chan struct{})
	defer close(stop)
	lines, scanErr := readLines(in, stop)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return errors.Join(<-scanErr, disconnect(ctx, out, client))
			}
			err := send(ctx, ev, s, line)
			switch {
			case err == nil:
			case errors.Is(err, strproto.ErrTerminator), errors.Is(err, strproto.ErrInvalidUTF8):
				out.printf("client: not sent: %v", err) // the connection is fine
			case errors.Is(err, base.ErrRequestTimeout):
				out.printf("client: no response: %v", err)
			case ctx.Err() != nil:
				return disconnect(ctx, out, client)
			case errors.Is(err, base.ErrClosed):
				<-s.Done()
				return closeResult(s)
			default:
				return err
			}
		case <-s.Done():
			return closeResult(s)
		case <-ctx.Done():
			return disconnect(ctx, out, client)
		}
	}
}

// readLines reads lines from in in a goroutine of its own, so that the
// client can react to the connection closing while it waits for input.
// The goroutine ends at the end of in, or after stop closes once its read
// returns (on a terminal, a blocked read lasts until the process ends).
// scanErr gets the read error, or nil, after lines closes.
func readLines(in io.Reader, stop <-chan struct{}) (lines <-chan string, scanErr <-chan error) {
	lc, ec := make(chan string), make(chan error, 1)
	go func() {
		defer close(lc)
		sc := bufio.NewScanner(in)
		sc.Buffer(nil, maxLine)
		for sc.Scan() {
			select {
			case lc <- sc.Text():
			case <-stop:
				return
			}
		}
		ec <- sc.Err()
	}()
	return lc, ec
}

// send sends one input line as a message or a request.
func send(ctx context.Context, ev *events, s *base.Session, line string) error {
	if text, ok := strings.CutPrefix(line, requestPrefix); ok {
		return ev.ask(ctx, s, text)
	}
	return ev.tell(ctx, s, line)
}

func disconnect(ctx context.Context, out *printer, client *base.Client) error {
	out.printf("client: disconnecting")
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
	defer cancel()
	return client.Disconnect(dctx)
}

// closeResult is the outcome of a connection the server closed: fine when
// it was a graceful disconnect (say, a server shutdown).
func closeResult(s *base.Session) error {
	if err := s.Err(); !errors.Is(err, base.ReasonGraceful) {
		return err
	}
	return nil
}
