package base_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log"
	"math/big"
	"net"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// A server and a client with mutual TLS: each end reads the other's
// verified identity from Session.TLS.
func ExampleWithTLS() {
	// An authority, a server certificate for 127.0.0.1 and a client
	// certificate; real deployments load theirs with tls.LoadX509KeyPair.
	ca, caKey := exampleCert(nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Example CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign,
	})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Leaf)
	serverCert, _ := exampleCert(ca.Leaf, caKey, &x509.Certificate{
		Subject: pkix.Name{CommonName: "server"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	clientCert, _ := exampleCert(ca.Leaf, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "client-7"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})

	srv := base.NewServer(native.New,
		base.WithTLS(&tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    roots,
		}),
		base.OnRequest(func(ctx context.Context, s *base.Session, payload []byte) []byte {
			who := s.TLS().VerifiedChains[0][0].Subject.CommonName
			return fmt.Appendf(nil, "%s, %s", bytes.ToUpper(payload), who)
		}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()

	// ServerName is left empty: the client verifies the certificate
	// against the host it connects to, 127.0.0.1.
	client := base.NewClient(native.New, base.WithTLS(&tls.Config{
		RootCAs:      roots,
		Certificates: []tls.Certificate{clientCert},
	}))
	ctx := context.Background()
	if err := client.Connect(ctx, ln.Addr().String()); err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	fmt.Println("server:", client.Session().TLS().PeerCertificates[0].Subject.CommonName)
	resp, err := client.Request(ctx, []byte("hello"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("response:", string(resp))
	// Output:
	// server: server
	// response: HELLO, client-7
}

// exampleCert makes a certificate from tmpl signed by parent (self-signed
// when parent is nil) and returns it with its key.
func exampleCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (tls.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		log.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, key
}

// A client that reconnects by itself when its server restarts on the same
// address.
func ExampleWithReconnect() {
	echo := base.OnRequest(func(ctx context.Context, s *base.Session, payload []byte) []byte { return payload })
	opened := make(chan struct{}, 1)
	srv := base.NewServer(native.New, echo, base.OnSessionOpened(func(*base.Session) { opened <- struct{}{} }))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	addr := ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	events := make(chan string, 16)
	client := base.NewClient(native.New,
		base.WithReconnect(base.Backoff{Initial: 20 * time.Millisecond, Max: time.Second}),
		base.OnConnected(func(s *base.Session) { events <- "connected" }),
		base.OnDisconnected(func(s *base.Session, reason base.CloseReason) { events <- "disconnected: " + reason.String() }),
		base.OnReconnected(func(s *base.Session) { events <- "reconnected" }))
	defer client.Close()
	ctx := context.Background()
	if err := client.Connect(ctx, addr); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-events)
	<-opened // the server has taken the connection: its Shutdown is graceful

	// The server goes away; sends fail at once while the client is
	// reconnecting.
	if err := srv.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	<-served
	fmt.Println(<-events)
	_, err = client.Request(ctx, []byte("anyone?"))
	fmt.Println("not connected:", errors.Is(err, base.ErrNotConnected))

	// A new server on the same address.
	srv = base.NewServer(native.New, echo)
	for tries := 0; ; tries++ {
		if ln, err = net.Listen("tcp", addr); err == nil || tries == 100 {
			break
		}
		time.Sleep(10 * time.Millisecond) // the port may not be free yet
	}
	if err != nil {
		log.Fatal(err)
	}
	go func() { served <- srv.Serve(ln) }()
	defer func() { srv.Close(); <-served }()
	fmt.Println(<-events)
	fmt.Println(<-events)
	resp, err := client.Request(ctx, []byte("back again"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("response:", string(resp))
	// Output:
	// connected
	// disconnected: graceful shutdown
	// not connected: true
	// connected
	// reconnected
	// response: back again
}
