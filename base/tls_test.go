package base_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/base/native"
)

// pki is a certificate authority with a server certificate for 127.0.0.1
// and a client certificate, made in memory, plus a client certificate from
// another authority.
type pki struct {
	roots    *x509.CertPool
	server   tls.Certificate
	client   tls.Certificate
	stranger tls.Certificate
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	caCert, caKey := newCA(t, "test CA")
	otherCert, otherKey := newCA(t, "other CA")
	p := &pki{roots: x509.NewCertPool()}
	p.roots.AddCert(caCert)
	p.server = issue(t, caCert, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "server"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.client = issue(t, caCert, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "client-1"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	p.stranger = issue(t, otherCert, otherKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "stranger"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl.SerialNumber = serial(t)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serverConfig is the server's TLS configuration; mutual requires and
// verifies client certificates from the authority.
func (p *pki) serverConfig(mutual bool) *tls.Config {
	cfg := &tls.Config{Certificates: []tls.Certificate{p.server}}
	if mutual {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = p.roots
	}
	return cfg
}

// clientConfig trusts the authority; withCert presents the client
// certificate. ServerName is left empty: the client takes it from the
// address.
func (p *pki) clientConfig(withCert bool) *tls.Config {
	cfg := &tls.Config{RootCAs: p.roots}
	if withCert {
		cfg.Certificates = []tls.Certificate{p.client}
	}
	return cfg
}

// TestTLSMutual: with mutual TLS both ends see each other's verified
// certificate on the Session, the verifier runs after the handshake, and
// requests, messages and a graceful disconnect work over TLS.
func TestTLSMutual(t *testing.T) {
	p := newPKI(t)
	verified := make(chan tls.ConnectionState, 1)
	pr := newPair(t,
		[]base.ServerOption{
			base.WithTLS(p.serverConfig(true)),
			base.OnRequest(echo),
			base.WithVerifier(func(conn net.Conn) error {
				tc, ok := conn.(*tls.Conn)
				if !ok {
					return errors.New("not TLS")
				}
				verified <- tc.ConnectionState()
				return nil
			}),
		},
		[]base.ClientOption{base.WithTLS(p.clientConfig(true))})
	st := receive(t, verified, "verifier")
	if !st.HandshakeComplete || len(st.PeerCertificates) == 0 {
		t.Fatalf("verifier saw handshake complete %v with %d peer certificates", st.HandshakeComplete, len(st.PeerCertificates))
	}

	srvTLS := pr.srvSess.TLS()
	if srvTLS == nil || len(srvTLS.VerifiedChains) == 0 {
		t.Fatalf("server session TLS state %v: want verified chains", srvTLS)
	}
	if cn := srvTLS.VerifiedChains[0][0].Subject.CommonName; cn != "client-1" {
		t.Errorf("server sees client %q, want client-1", cn)
	}
	cliTLS := pr.cliSess.TLS()
	if cliTLS == nil || cliTLS.PeerCertificates[0].Subject.CommonName != "server" || cliTLS.Version < tls.VersionTLS12 {
		t.Fatalf("client session TLS state %+v", cliTLS)
	}
	if _, ok := pr.cliSess.NetConn().(*tls.Conn); !ok {
		t.Errorf("client NetConn is a %T", pr.cliSess.NetConn())
	}

	ctx := ctxT(t)
	if resp, err := pr.client.Request(ctx, []byte("secret")); err != nil || string(resp) != "echo:secret" {
		t.Fatalf("request over TLS: %q, %v", resp, err)
	}
	must(t, pr.srvSess.SendMessage(ctx, []byte("hello")))
	if got := receive(t, pr.cliRec.messages, "message"); got != "hello" {
		t.Fatalf("message %q", got)
	}
	// The graceful disconnect's half-close works over TLS (close_notify).
	start := time.Now()
	must(t, pr.client.Disconnect(ctx))
	within(t, "graceful disconnect over TLS", time.Since(start), 0, tolerance)
	if r := receive(t, pr.cliRec.closed, "client closed"); r != base.ReasonGraceful {
		t.Errorf("client closed with %v", r)
	}
	if r := receive(t, pr.srvRec.closed, "server closed"); r != base.ReasonGraceful {
		t.Errorf("server closed with %v", r)
	}
}

func TestTLSStateNilWithoutTLS(t *testing.T) {
	pr := newPair(t, nil, nil)
	if pr.srvSess.TLS() != nil || pr.cliSess.TLS() != nil {
		t.Fatal("TLS state on a plain connection")
	}
}

// expectHandshakeEvent waits for the server's error event of a failed
// handshake and checks it mentions want.
func expectHandshakeEvent(t *testing.T, rec *recorder, want string) error {
	t.Helper()
	err := receive(t, rec.errs, "handshake error event")
	if !errors.Is(err, base.ErrHandshake) || !errors.Is(err, base.ReasonAcceptError) || !strings.Contains(err.Error(), want) {
		t.Fatalf("server error event %v, want ErrHandshake mentioning %q", err, want)
	}
	return err
}

// tlsServer serves a server with the TLS configuration cfg and returns its
// address and recorder.
func tlsServer(t *testing.T, cfg *tls.Config, opts ...base.ServerOption) (string, *recorder) {
	t.Helper()
	rec := newRecorder()
	addr := serve(t, base.NewServer(native.New, rec.server(append(opts, base.WithTLS(cfg), base.OnRequest(echo))...)...))
	return addr, rec
}

// TestTLSClientWithoutCertificate: a server requiring client certificates
// refuses a client without one: an error event, no session, and the client
// learns why at once (from Connect, or its connection's close error under
// TLS 1.3, where the client's handshake ends before the server's check).
func TestTLSClientWithoutCertificate(t *testing.T) {
	p := newPKI(t)
	for _, name := range []string{"no certificate", "untrusted certificate"} {
		t.Run(name, func(t *testing.T) {
			addr, srvRec := tlsServer(t, p.serverConfig(true))
			cfg := p.clientConfig(false)
			want := "certificate"
			if name == "untrusted certificate" {
				// Offered whatever the server asks for.
				cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					return &p.stranger, nil
				}
				want = "unknown authority"
			}
			rec := newRecorder()
			c := base.NewClient(native.New, rec.client(base.WithTLS(cfg))...)
			t.Cleanup(func() { c.Close() })
			start := time.Now()
			err := c.Connect(ctxT(t), addr)
			if err == nil {
				receive(t, rec.opened, "connected")
				if r := receive(t, rec.closed, "closed"); r != base.ReasonNetworkError {
					t.Errorf("closed with %v, want network error", r)
				}
				err = receive(t, rec.errs, "close error")
			}
			within(t, "learning of the refusal", time.Since(start), 0, 5*time.Second)
			if !strings.Contains(err.Error(), "certificate") {
				t.Errorf("client error %v does not mention the certificate", err)
			}
			t.Logf("client: %v", err)
			t.Logf("server: %v", expectHandshakeEvent(t, srvRec, want))
			none(t, srvRec.opened, "session for a refused client")
		})
	}
}

// TestTLSUntrustedServer: a client that does not trust the server's
// certificate fails Connect with ErrHandshake and the verification error.
func TestTLSUntrustedServer(t *testing.T) {
	p := newPKI(t)
	addr, srvRec := tlsServer(t, p.serverConfig(false))
	c := base.NewClient(native.New, base.WithTLS(&tls.Config{}))
	err := c.Connect(ctxT(t), addr)
	var ve *tls.CertificateVerificationError
	if !errors.Is(err, base.ErrHandshake) || !errors.As(err, &ve) {
		t.Fatalf("Connect: %v, want ErrHandshake with a certificate verification error", err)
	}
	expectHandshakeEvent(t, srvRec, "bad certificate")
	none(t, srvRec.opened, "session")

	// The server name comes from the address: a certificate for 127.0.0.1
	// does not match another name.
	c = base.NewClient(native.New, base.WithTLS(&tls.Config{RootCAs: p.roots, ServerName: "example.invalid"}))
	if err := c.Connect(ctxT(t), addr); !errors.Is(err, base.ErrHandshake) || !errors.As(err, &ve) {
		t.Fatalf("Connect with a wrong server name: %v", err)
	}
}

// TestTLSPlaintextClient: a client without TLS against a TLS server fails
// quickly, with a close error that says one end uses TLS, and the server
// reports the failed handshake without opening a session.
func TestTLSPlaintextClient(t *testing.T) {
	p := newPKI(t)
	addr, srvRec := tlsServer(t, p.serverConfig(false))
	rec := newRecorder()
	c := base.NewClient(native.New, rec.client()...)
	t.Cleanup(func() { c.Close() })
	start := time.Now()
	must(t, c.Connect(ctxT(t), addr))
	receive(t, rec.opened, "connected")
	if r := receive(t, rec.closed, "closed"); r != base.ReasonProtocolError {
		t.Fatalf("closed with %v, want protocol error", r)
	}
	err := receive(t, rec.errs, "close error")
	within(t, "plaintext client failing", time.Since(start), 0, 5*time.Second)
	if !errors.Is(err, base.ReasonProtocolError) || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("close error %v does not tell about TLS", err)
	}
	t.Logf("client: %v (after %v)", err, time.Since(start))
	t.Logf("server: %v", expectHandshakeEvent(t, srvRec, "does not speak TLS"))
	none(t, srvRec.opened, "session")
}

// TestTLSClientPlaintextServer: a TLS client against a plain server fails
// Connect quickly with ErrHandshake saying the server does not speak TLS.
func TestTLSClientPlaintextServer(t *testing.T) {
	p := newPKI(t)
	srvRec := newRecorder()
	addr := serve(t, base.NewServer(native.New, srvRec.server()...))
	rec := newRecorder()
	c := base.NewClient(native.New, rec.client(base.WithTLS(p.clientConfig(false)))...)
	start := time.Now()
	err := c.Connect(ctxT(t), addr)
	within(t, "TLS client failing", time.Since(start), 0, 5*time.Second)
	if !errors.Is(err, base.ErrHandshake) || !strings.Contains(err.Error(), "does not speak TLS") {
		t.Fatalf("Connect: %v, want ErrHandshake saying the server does not speak TLS", err)
	}
	t.Logf("client: %v (after %v)", err, time.Since(start))
	none(t, rec.opened, "connected event")
	if c.Session() != nil {
		t.Error("a session after a failed Connect")
	}
	// The server's session saw a TLS record where the preface belongs.
	receive(t, srvRec.opened, "server session")
	if r := receive(t, srvRec.closed, "server session closed"); r != base.ReasonProtocolError {
		t.Errorf("server session closed with %v", r)
	}
	if err := receive(t, srvRec.errs, "server error"); !strings.Contains(err.Error(), "TLS") {
		t.Errorf("server error %v", err)
	}
}

// TestTLSListenerAndDialer: a server on a tls.NewListener listener and a
// client with a tls.Dialer, without WithTLS, handshake before the session
// opens too.
func TestTLSListenerAndDialer(t *testing.T) {
	p := newPKI(t)
	srvRec := newRecorder()
	complete := make(chan bool, 1)
	srv := base.NewServer(native.New, srvRec.server(base.OnRequest(echo),
		base.WithVerifier(func(conn net.Conn) error {
			complete <- conn.(*tls.Conn).ConnectionState().HandshakeComplete
			return nil
		}))...)
	ln := tls.NewListener(listen(t), p.serverConfig(true))
	serveOn(t, srv, ln)
	d := &tls.Dialer{Config: p.clientConfig(true)}
	d.Config.ServerName = "127.0.0.1"
	rec := newRecorder()
	c := base.NewClient(native.New, rec.client(base.WithDialer(d.DialContext))...)
	t.Cleanup(func() { c.Close() })
	must(t, c.Connect(ctxT(t), ln.Addr().String()))
	if !receive(t, complete, "verifier") {
		t.Fatal("verifier ran before the handshake completed")
	}
	ss := receive(t, srvRec.opened, "session")
	if st := ss.TLS(); st == nil || st.PeerCertificates[0].Subject.CommonName != "client-1" {
		t.Fatalf("server session TLS state %v", st)
	}
	if cs := receive(t, rec.opened, "connected"); cs.TLS() == nil {
		t.Fatal("client session without TLS state")
	}
	if resp, err := c.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
		t.Fatalf("request: %q, %v", resp, err)
	}

	// A plaintext client against that listener fails the same way.
	plainRec := newRecorder()
	pc := base.NewClient(native.New, plainRec.client()...)
	t.Cleanup(func() { pc.Close() })
	must(t, pc.Connect(ctxT(t), ln.Addr().String()))
	if r := receive(t, plainRec.closed, "plain client closed"); r != base.ReasonProtocolError {
		t.Fatalf("plain client closed with %v", r)
	}
	expectHandshakeEvent(t, srvRec, "does not speak TLS")
}

// TestTLSVerifierPanics: a verifier that panics (here reading the client
// certificate of a client that sent none) refuses that connection and
// reports the panic as an error event with a nil Session; the server goes
// on serving.
func TestTLSVerifierPanics(t *testing.T) {
	p := newPKI(t)
	cfg := p.serverConfig(false)
	cfg.ClientAuth = tls.VerifyClientCertIfGiven
	cfg.ClientCAs = p.roots
	srvRec := newRecorder()
	srv := base.NewServer(native.New, srvRec.server(
		base.WithTLS(cfg),
		base.OnRequest(echo),
		base.WithVerifier(func(conn net.Conn) error {
			st := conn.(*tls.Conn).ConnectionState()
			_ = st.VerifiedChains[0][0] // panics without a client certificate
			return nil
		}),
	)...)
	addr := serve(t, srv)

	rec := newRecorder()
	c := base.NewClient(native.New, rec.client(base.WithTLS(p.clientConfig(false)))...)
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(ctxT(t), addr); err != nil {
		t.Fatal(err)
	}
	receive(t, rec.closed, "refused client closed")
	err := receive(t, srvRec.errs, "server error event")
	var ce *base.CloseError
	var pe *base.PanicError
	if !errors.As(err, &ce) || ce.Reason != base.ReasonAcceptError || !errors.As(err, &pe) || len(pe.Stack) == 0 {
		t.Fatalf("server error event %#v: want a *CloseError with ReasonAcceptError and a *PanicError", err)
	}
	none(t, srvRec.opened, "session for the refused connection")
	none(t, srvRec.errs, "second error event")

	// A client with a certificate passes the verifier.
	c2, _, _ := connect(t, addr, newRecorder(), srvRec, base.WithTLS(p.clientConfig(true)))
	if resp, err := c2.Request(ctxT(t), []byte("x")); err != nil || string(resp) != "echo:x" {
		t.Fatalf("request after a verifier panic: %q, %v", resp, err)
	}
}
