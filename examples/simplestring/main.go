// Command simplestring is NetMessage's text-protocol example, after the
// SimpleString example of .NET NetMessage: a server and a client built on
// package base alone, speaking strproto, where every packet is a UTF-8
// string ended by the byte 0x04.
//
// With no flags it runs a self-contained demo in one process: a server and
// a client exchange messages and requests both ways (each end answers a
// request by uppercasing it), then the client disconnects gracefully.
//
//	go run ./examples/simplestring
//
// With -server or -client it runs one end, for two processes:
//
//	go run ./examples/simplestring -server -addr 127.0.0.1:7400
//	go run ./examples/simplestring -client -addr 127.0.0.1:7400
//
// The server greets each client, prints what arrives and answers requests
// until Ctrl-C (or SIGTERM), then shuts down gracefully. The client sends
// each line typed as a message, or as a request when it starts with "?",
// and prints the response; at the end of input (Ctrl-D) or on Ctrl-C it
// disconnects gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	server := flag.Bool("server", false, "run a server until Ctrl-C")
	client := flag.Bool("client", false, `run a client that sends each line of stdin (a request if it starts with "?")`)
	addr := flag.String("addr", "127.0.0.1:7400", "address to listen on or connect to, with -server or -client")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "simplestring: unexpected argument %q\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch {
	case *server && *client:
		err = errors.New("choose -server or -client, not both")
	case *server:
		err = runServer(ctx, *addr, os.Stdout)
	case *client:
		err = runClient(ctx, *addr, os.Stdin, os.Stdout)
	default:
		err = demo(ctx, os.Stdout)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "simplestring:", err)
		os.Exit(1)
	}
}
