package base_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/netmessage-go/netmessage/base"
)

// TestSharedContextCancel: callers that share one context wait on their
// calls alone (the session watches the context once); when it ends, every
// one of them returns its error at once (no virtual time passes), every
// handler's context is cancelled, and the session serves on.
func TestSharedContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const callers = 16
		h := &handlerProbe{started: make(chan context.Context, callers), ended: make(chan time.Time, callers), release: make(chan struct{})}
		p := newMemPair(t, []base.ServerOption{base.OnRequest(h.handle)}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errs := make(chan error, callers)
		for range callers {
			go func() {
				_, err := p.cliSess.Request(ctx, []byte("q"))
				errs <- err
			}()
		}
		hctxs := make([]context.Context, 0, callers)
		for range callers {
			hctxs = append(hctxs, receive(t, h.started, "handler start"))
		}
		start := time.Now()
		cancel()
		for range callers {
			if err := receive(t, errs, "Request"); !errors.Is(err, context.Canceled) {
				t.Fatalf("Request: %v, want context.Canceled", err)
			}
		}
		exactly(t, "the callers' return", time.Since(start), 0, "at the cancel")
		for range callers {
			receive(t, h.ended, "handler end")
		}
		for _, hctx := range hctxs {
			if !errors.Is(hctx.Err(), context.Canceled) {
				t.Errorf("handler's context: %v, want context.Canceled", hctx.Err())
			}
		}
		// Calls with the ended context fail at once; calls with another
		// context are served.
		if _, err := p.cliSess.Request(ctx, []byte("q")); !errors.Is(err, context.Canceled) {
			t.Errorf("Request with the ended context: %v", err)
		}
		next := make(chan error, 1)
		go func() {
			resp, err := p.cliSess.Request(ctxT(t), []byte("next"))
			if err == nil && string(resp) != "late" {
				err = errors.New("answer " + string(resp))
			}
			next <- err
		}()
		receive(t, h.started, "next handler")
		h.release <- struct{}{}
		if err := receive(t, next, "next Request"); err != nil {
			t.Fatal(err)
		}
		none(t, p.srvRec.errs, "server error")
		none(t, p.cliRec.errs, "client error")
	})
}

// TestSharedContextDeadline: callers sharing a context with a deadline get
// context.DeadlineExceeded exactly when it passes.
func TestSharedContextDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const callers, d = 8, 300 * time.Millisecond
		p := newMemPair(t, []base.ServerOption{base.OnRequest(blockUntilDone), base.WithHandlerTimeout(time.Hour)}, nil)
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		start := time.Now()
		errs := make(chan error, callers)
		for range callers {
			go func() {
				_, err := p.cliSess.Request(ctx, []byte("q"))
				errs <- err
			}()
		}
		for range callers {
			if err := receive(t, errs, "Request"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Request: %v, want context.DeadlineExceeded", err)
			}
		}
		exactly(t, "the callers' return", time.Since(start), d, "the context's deadline")
	})
}

// TestSharedContextAnswered: callers sharing a context that stays open
// get their answers, and a context cancelled after its calls returned
// changes nothing for the calls that follow.
func TestSharedContextAnswered(t *testing.T) {
	p := newPair(t, []base.ServerOption{base.OnRequest(echo)}, nil)
	for round := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 32)
		for i := range 32 {
			go func() {
				want := []byte{byte(round), byte(i)}
				resp, err := p.cliSess.Request(ctx, want)
				if err == nil && string(resp) != "echo:"+string(want) {
					err = errors.New("wrong answer")
				}
				errs <- err
			}()
		}
		for range 32 {
			if err := receive(t, errs, "Request"); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		cancel()
	}
	none(t, p.cliRec.errs, "client error")
}
