package base

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestCallCtx(t *testing.T) {
	// On virtual time: the deadline is exactly the timeout after the
	// context was made, and the context ends exactly then.
	t.Run("deadline without Done", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			c := newCallCtx(context.Background(), nil, time.Millisecond)
			if dl, ok := c.Deadline(); !ok || dl != start.Add(time.Millisecond) {
				t.Fatalf("Deadline() = %v, %v; want exactly 1ms from now", dl, ok)
			}
			time.Sleep(time.Millisecond - 1)
			if err := c.Err(); err != nil {
				t.Fatalf("Err() = %v before the deadline", err)
			}
			time.Sleep(1)
			if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Err() = %v at the deadline", err)
			}
			c.cancel() // the handler returned: still the deadline's error
			if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Err() = %v after cancel past the deadline", err)
			}
			select {
			case <-c.Done():
			default:
				t.Fatal("Done() of an ended context is not closed")
			}
		})
	})
	t.Run("Done closes at the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			c := newCallCtx(context.Background(), nil, 20*time.Millisecond)
			<-c.Done()
			if d := time.Since(start); d != 20*time.Millisecond {
				t.Fatalf("Done closed after %v, want exactly the 20ms deadline", d)
			}
			if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Err() = %v", err)
			}
		})
	})
	t.Run("cancel", func(t *testing.T) {
		c := newCallCtx(context.Background(), Metadata{"k": "v"}, 0)
		if _, ok := c.Deadline(); ok {
			t.Fatal("a deadline without a timeout")
		}
		done := c.Done()
		if c.Err() != nil {
			t.Fatal("ended early")
		}
		c.cancel()
		<-done
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err() = %v", err)
		}
		if md := IncomingMetadata(c); md["k"] != "v" {
			t.Fatalf("metadata %v", md)
		}
	})
	t.Run("parent ends", func(t *testing.T) {
		type key struct{}
		parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "p"))
		c := newCallCtx(parent, nil, time.Hour)
		if c.Value(key{}) != "p" {
			t.Fatal("the parent's values are not seen")
		}
		if IncomingMetadata(c) != nil {
			t.Fatal("metadata without any")
		}
		done := c.Done()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed when the parent ended")
		}
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err() = %v", err)
		}
		// A context derived from it ends with it.
		d, dcancel := context.WithCancel(newCallCtx(parent, nil, 0))
		defer dcancel()
		select {
		case <-d.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a derived context did not end")
		}
	})
}
