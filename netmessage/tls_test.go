package netmessage_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// certificate returns a certificate from tmpl signed by parent and
// parentKey, or self-signed when parent is nil, with its key.
func certificate(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (tls.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	must(t, err)
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	must(t, err)
	leaf, err := x509.ParseCertificate(der)
	must(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, key
}

// TestTypedMutualTLS: typed ends over mutual TLS see each other's identity
// with Session.TLS and Client.TLS, and a typed request works.
func TestTypedMutualTLS(t *testing.T) {
	ca, caKey := certificate(t, nil, nil, &x509.Certificate{
		Subject: pkix.Name{CommonName: "CA"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Leaf)
	srvCert, _ := certificate(t, ca.Leaf, caKey, &x509.Certificate{
		Subject: pkix.Name{CommonName: "weather-server"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	cliCert, _ := certificate(t, ca.Leaf, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "station-42"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	callers := make(chan string, 1)
	s := serveTyped(t, ln, netmessage.WithTransport(base.WithTLS(&tls.Config{
		Certificates: []tls.Certificate{srvCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
	})))
	must(t, netmessage.HandleMessage(s.mux, func(_ context.Context, ss *base.Session, m ChatMessage) {
		callers <- ss.TLS().VerifiedChains[0][0].Subject.CommonName + ": " + m.Text
	}))

	_, c := typedClient(t, netmessage.WithTransport(base.WithTLS(&tls.Config{
		RootCAs:      roots,
		Certificates: []tls.Certificate{cliCert},
	})))
	t.Cleanup(func() { c.Close() })
	if c.Session() != nil {
		t.Fatal("a connection before Connect")
	}
	must(t, c.Connect(ctx(t), s.addr))
	sess := recv(t, s.opened, "session")
	if st := sess.TLS(); st == nil || st.PeerCertificates[0].Subject.CommonName != "station-42" {
		t.Fatalf("server session TLS state %v", st)
	}
	if st := c.Session().TLS(); st == nil || st.PeerCertificates[0].Subject.CommonName != "weather-server" {
		t.Fatalf("client TLS state %v", st)
	}
	if resp, err := netmessage.Request(ctx(t), c, WeatherRequest{City: "Bonn"}); err != nil || resp.Forecast != "sunny in Bonn" {
		t.Fatalf("request over TLS: %+v, %v", resp, err)
	}
	must(t, netmessage.Send(ctx(t), c, ChatMessage{Text: "hello"}))
	if got := recv(t, callers, "message"); got != "station-42: hello" {
		t.Fatalf("server handler saw %q", got)
	}
	must(t, c.Close())
	if s, err := c.ActiveSession(); err == nil {
		t.Fatalf("an open connection after Close, TLS state %v", s.TLS())
	}

	// A typed TLS client against a plain server fails Connect with
	// base.ErrHandshake.
	plainLn, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	plain := serveTyped(t, plainLn)
	_, c2 := typedClient(t, netmessage.WithTransport(base.WithTLS(&tls.Config{RootCAs: roots})))
	if err := c2.Connect(ctx(t), plain.addr); !errors.Is(err, base.ErrHandshake) {
		t.Fatalf("TLS client against a plain server: %v", err)
	}
}
