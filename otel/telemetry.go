package nmotel

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/netmessage-go/netmessage/otel"

// SystemName is the value of the rpc.system.name attribute.
const SystemName = "netmessage"

// Attribute keys of the package's own, besides the semantic conventions'.
const (
	// KindKey says whether a call is a "request" or a "message".
	KindKey = attribute.Key("netmessage.kind")
	// SessionIDKey is the id of the session a call went over (spans only).
	SessionIDKey = attribute.Key("netmessage.session.id")
	// EndKey says whether a session is a "server" or a "client" one.
	EndKey = attribute.Key("netmessage.end")
	// CloseReasonKey is why a session closed, base.CloseReason's String
	// in snake case ("graceful_shutdown", "connection_lost" and so on).
	CloseReasonKey = attribute.Key("netmessage.close_reason")
	// OperationKey says whether a body size was measured by "marshal" or
	// "unmarshal".
	OperationKey = attribute.Key("netmessage.serializer.operation")
)

// OtherMethod is the rpc.method of a received call whose type has no
// handler: a type id this end does not know may be anything, so the
// metrics do not take it (the server span records it as
// rpc.method_original).
const OtherMethod = "_OTHER"

// Metric names and units.
const (
	ClientDurationName = "rpc.client.call.duration"             // s
	ServerDurationName = "rpc.server.call.duration"             // s
	ClientActiveName   = "netmessage.client.calls.active"       // {call}
	ServerActiveName   = "netmessage.server.calls.active"       // {call}
	BodySizeName       = "netmessage.serializer.body.size"      // By
	SessionsOpenName   = "netmessage.sessions.open"             // {session}
	SessionsClosedName = "netmessage.sessions.closed"           // {session}
	ReconnectsName     = "netmessage.client.reconnect.attempts" // {attempt}
)

// durationBuckets are the bucket bounds of the duration histograms, in
// seconds: the semantic conventions' advice for HTTP durations, with finer
// buckets below 5 ms, where calls over a local network fall.
var durationBuckets = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
}

var (
	systemAttr = semconv.RPCSystemNameKey.String(SystemName)
	clientKind = trace.WithSpanKind(trace.SpanKindClient)
	serverKind = trace.WithSpanKind(trace.SpanKindServer)
)

// Telemetry instruments the calls and sessions of NetMessage ends: it
// holds a tracer, the instruments and a propagator. Make one with New and
// share it between the ends of an application; it is safe for concurrent
// use.
type Telemetry struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator

	clientDuration metric.Float64Histogram
	serverDuration metric.Float64Histogram
	clientActive   metric.Int64UpDownCounter
	serverActive   metric.Int64UpDownCounter
	bodySize       metric.Int64Histogram
	sessionsOpen   metric.Int64UpDownCounter
	sessionsClosed metric.Int64Counter
	reconnects     metric.Int64Counter

	sets setCache
}

// New returns a Telemetry configured by opts. It takes the global
// TracerProvider, MeterProvider and propagator for those opts do not set,
// as they are when New is called (the global providers hand over to
// providers set later). An instrument the MeterProvider cannot make is
// reported to otel.Handle, and not recorded.
func New(opts ...Option) *Telemetry {
	c := config{}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.tp == nil {
		c.tp = otel.GetTracerProvider()
	}
	if c.mp == nil {
		c.mp = otel.GetMeterProvider()
	}
	if c.prop == nil {
		c.prop = otel.GetTextMapPropagator()
	}
	t := &Telemetry{
		tracer: c.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		prop:   c.prop,
	}
	m := c.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	t.clientDuration, err = m.Float64Histogram(ClientDurationName,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of outgoing requests and messages: for a message, until it is queued."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	keep(err)
	t.serverDuration, err = m.Float64Histogram(ServerDurationName,
		metric.WithUnit("s"),
		metric.WithDescription("Duration of the handling of incoming requests and messages."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	keep(err)
	t.clientActive, err = m.Int64UpDownCounter(ClientActiveName,
		metric.WithUnit("{call}"),
		metric.WithDescription("Outgoing requests and messages in flight."))
	keep(err)
	t.serverActive, err = m.Int64UpDownCounter(ServerActiveName,
		metric.WithUnit("{call}"),
		metric.WithDescription("Incoming requests and messages being handled."))
	keep(err)
	t.bodySize, err = m.Int64Histogram(BodySizeName,
		metric.WithUnit("By"),
		metric.WithDescription("Size of the bodies the serializer encodes and decodes: requests, responses and messages, without type id and framing."),
		metric.WithExplicitBucketBoundaries(0, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304))
	keep(err)
	t.sessionsOpen, err = m.Int64UpDownCounter(SessionsOpenName,
		metric.WithUnit("{session}"),
		metric.WithDescription("Sessions open."))
	keep(err)
	t.sessionsClosed, err = m.Int64Counter(SessionsClosedName,
		metric.WithUnit("{session}"),
		metric.WithDescription("Sessions closed, by close reason."))
	keep(err)
	t.reconnects, err = m.Int64Counter(ReconnectsName,
		metric.WithUnit("{attempt}"),
		metric.WithDescription("Reconnect attempts of clients."))
	keep(err)
	if len(errs) > 0 {
		otel.Handle(errors.Join(errs...))
	}
	t.fillNoop()
	return t
}

// fillNoop puts a no-op instrument in place of each instrument the
// MeterProvider did not make.
func (t *Telemetry) fillNoop() {
	var nm noop.Meter
	if t.clientDuration == nil {
		t.clientDuration, _ = nm.Float64Histogram(ClientDurationName)
	}
	if t.serverDuration == nil {
		t.serverDuration, _ = nm.Float64Histogram(ServerDurationName)
	}
	if t.clientActive == nil {
		t.clientActive, _ = nm.Int64UpDownCounter(ClientActiveName)
	}
	if t.serverActive == nil {
		t.serverActive, _ = nm.Int64UpDownCounter(ServerActiveName)
	}
	if t.bodySize == nil {
		t.bodySize, _ = nm.Int64Histogram(BodySizeName)
	}
	if t.sessionsOpen == nil {
		t.sessionsOpen, _ = nm.Int64UpDownCounter(SessionsOpenName)
	}
	if t.sessionsClosed == nil {
		t.sessionsClosed, _ = nm.Int64Counter(SessionsClosedName)
	}
	if t.reconnects == nil {
		t.reconnects, _ = nm.Int64Counter(ReconnectsName)
	}
}

// MuxOption returns the netmessage option that adds t's interceptors to a
// Mux: an outbound one that makes a client span for every Request, Send
// and Broadcast, writes its context into the call's metadata and records
// the client metrics, and an inbound one that reads the context back,
// makes the server span around the handler and records the server
// metrics. Both are the outermost of their kind when MuxOption comes
// before the Mux's other WithInbound and WithOutbound options, so the
// spans and durations cover the other interceptors too.
func (t *Telemetry) MuxOption() netmessage.Option {
	return netmessage.Combine(
		netmessage.WithOutbound(t.outbound),
		netmessage.WithInbound(t.inbound),
	)
}

func kindAttr(k base.Kind) attribute.KeyValue {
	if k == base.KindRequest {
		return KindKey.String("request")
	}
	return KindKey.String("message")
}

// peerAttrs appends the network peer and session attributes of s.
func peerAttrs(attrs []attribute.KeyValue, s *base.Session) []attribute.KeyValue {
	if s == nil {
		return attrs
	}
	attrs = append(attrs, SessionIDKey.Int64(int64(s.ID())))
	switch a := s.RemoteAddr().(type) {
	case *net.TCPAddr:
		attrs = append(attrs,
			semconv.NetworkPeerAddress(a.IP.String()),
			semconv.NetworkPeerPort(a.Port))
	case nil:
	default:
		if host, port, err := net.SplitHostPort(a.String()); err == nil {
			attrs = append(attrs, semconv.NetworkPeerAddress(host))
			if p, err := strconv.Atoi(port); err == nil {
				attrs = append(attrs, semconv.NetworkPeerPort(p))
			}
		} else {
			attrs = append(attrs, semconv.NetworkPeerAddress(a.String()))
		}
	}
	return attrs
}

// outbound is the outbound interceptor: the client span and metrics.
func (t *Telemetry) outbound(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (resp any, err error) {
	ctx, span := t.tracer.Start(ctx, call.TypeID, clientKind, t.sets.startOption(call.Kind, call.TypeID))
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(peerAttrs(nil, call.Session)...)
	}

	sendCtx := ctx
	var c injector
	if call.Session == nil || call.Session.CarriesCallInfo() {
		// Over a session that cannot carry it, the trace context is
		// left out at once rather than tried: the call is encoded, and
		// goes through the other interceptors, once.
		t.prop.Inject(ctx, &c)
	}
	if len(c) > 0 {
		sendCtx = base.AppendMetadata(ctx, c...)
	}
	active := t.sets.get(setKey{kind: call.Kind, method: call.TypeID, active: true})
	t.clientActive.Add(ctx, 1, active.add...)
	start := time.Now()
	err = errOutboundPanic // as recorded if next panics: the panic goes on to the caller
	defer func() { t.endClient(ctx, call, active, start, span, err) }()
	resp, err = next(sendCtx, v)
	if len(c) > 0 && errors.Is(err, base.ErrNoCallInfo) && len(base.OutgoingMetadata(ctx)) == 0 {
		// The protocol cannot carry metadata and nothing was sent (a
		// Broadcast, whose sessions the interceptor does not see): the
		// call goes without the trace context.
		resp, err = next(ctx, v)
	}
	return resp, err
}

// Errors a call is recorded with when an interceptor given after
// MuxOption panics: on a client, the panic reaches the caller; on a
// server, netmessage answers it as a handler's panic.
var (
	errOutboundPanic = errors.New("nmotel: panic in an outbound interceptor")
	errInboundPanic  = &netmessage.RemoteError{Code: netmessage.CodePanic, Message: "panic in an inbound interceptor"}
)

// endClient records the end of an outbound call that began at start.
func (t *Telemetry) endClient(ctx context.Context, call netmessage.Call, active measure, start time.Time, span trace.Span, err error) {
	elapsed := time.Since(start).Seconds()
	t.clientActive.Add(ctx, -1, active.add...)
	o := clientOutcome(err)
	t.clientDuration.Record(ctx, elapsed, t.sets.get(setKey{kind: call.Kind, method: call.TypeID, outcome: o}).record...)
	o.annotate(span, err)
}

// inbound is the inbound interceptor: the server span and metrics.
func (t *Telemetry) inbound(ctx context.Context, call netmessage.Call, v any, next netmessage.Invoker) (resp any, err error) {
	method := call.TypeID
	var start trace.SpanStartOption
	if v == nil {
		// No handler for the type: its id may be anything, so it is
		// not a metric attribute (nor a key of the sets' cache).
		method = OtherMethod
		start = trace.WithAttributes(systemAttr, semconv.RPCMethod(OtherMethod), kindAttr(call.Kind),
			semconv.RPCMethodOriginal(call.TypeID))
	} else {
		start = t.sets.startOption(call.Kind, method)
	}
	if md := base.IncomingMetadata(ctx); md != nil {
		ctx = t.prop.Extract(ctx, extractor(md))
	}
	ctx, span := t.tracer.Start(ctx, call.TypeID, serverKind, start)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(peerAttrs(nil, call.Session)...)
	}

	active := t.sets.get(setKey{kind: call.Kind, method: method, active: true})
	t.serverActive.Add(ctx, 1, active.add...)
	begin := time.Now()
	err = errInboundPanic // as recorded if next panics: netmessage recovers it above
	defer func() { t.endServer(ctx, call.Kind, method, active, begin, span, err) }()
	return next(ctx, v)
}

// endServer records the end of an inbound call that began at begin.
func (t *Telemetry) endServer(ctx context.Context, kind base.Kind, method string, active measure, begin time.Time, span trace.Span, err error) {
	elapsed := time.Since(begin).Seconds()
	t.serverActive.Add(ctx, -1, active.add...)
	o := serverOutcome(err)
	t.serverDuration.Record(ctx, elapsed, t.sets.get(setKey{kind: kind, method: method, outcome: o}).record...)
	o.annotate(span, err)
}

// outcome is how a call ended: its rpc.response.status_code ("" for
// none) and error.type ("" for success).
type outcome struct {
	status, errType string
}

// annotate sets the span's outcome attributes and status.
func (o outcome) annotate(span trace.Span, err error) {
	if !span.IsRecording() {
		return
	}
	if o.status != "" {
		span.SetAttributes(semconv.RPCResponseStatusCode(o.status))
	}
	if err == nil {
		return
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(o.errType))
	span.SetStatus(codes.Error, err.Error())
}

// setKey names the attributes of a measurement: the calls in flight of a
// kind and method (active), or the duration of one with an outcome.
type setKey struct {
	kind    base.Kind
	method  string
	active  bool
	outcome outcome
}

// maxCachedSets bounds the sets a Telemetry keeps. The type ids of calls
// sent are the application's own, and received ones without a handler
// are all OtherMethod, so the count stays small; past the bound, sets
// are made for each measurement.
const maxCachedSets = 4096

// setCache keeps the measurement options and span start options of the
// methods seen, so that a call makes no attribute set of its own. The
// measurement options are kept as slices, passed on as they are.
type setCache struct {
	mu     sync.RWMutex
	sets   map[setKey]measure
	starts map[startKey]trace.SpanStartOption
}

type startKey struct {
	kind   base.Kind
	method string
}

// measure holds the options of measurements with one attribute set, for
// Add and for Record.
type measure struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

// get returns the measurement options with k's attributes.
func (c *setCache) get(k setKey) measure {
	c.mu.RLock()
	o, ok := c.sets[k]
	c.mu.RUnlock()
	if ok {
		return o
	}
	attrs := []attribute.KeyValue{systemAttr, semconv.RPCMethod(k.method), kindAttr(k.kind)}
	if k.outcome.status != "" {
		attrs = append(attrs, semconv.RPCResponseStatusCode(k.outcome.status))
	}
	if k.outcome.errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(k.outcome.errType))
	}
	set := metric.WithAttributeSet(attribute.NewSet(attrs...))
	o = measure{add: []metric.AddOption{set}, record: []metric.RecordOption{set}}
	c.mu.Lock()
	if c.sets == nil {
		c.sets = make(map[setKey]measure)
	}
	if len(c.sets) < maxCachedSets {
		c.sets[k] = o
	}
	c.mu.Unlock()
	return o
}

// startOption returns the span start option with the attributes of a
// call of kind and method known at its start.
func (c *setCache) startOption(kind base.Kind, method string) trace.SpanStartOption {
	k := startKey{kind, method}
	c.mu.RLock()
	o, ok := c.starts[k]
	c.mu.RUnlock()
	if ok {
		return o
	}
	o = trace.WithAttributes(systemAttr, semconv.RPCMethod(method), kindAttr(kind))
	c.mu.Lock()
	if c.starts == nil {
		c.starts = make(map[startKey]trace.SpanStartOption)
	}
	if len(c.starts) < maxCachedSets {
		c.starts[k] = o
	}
	c.mu.Unlock()
	return o
}

// StatusOK is the rpc.response.status_code of a call that succeeded.
const StatusOK = "OK"

// Status codes a client gives a call that failed without a response, and
// error types of failures that have no status code.
const (
	StatusDeadlineExceeded = "DEADLINE_EXCEEDED" // the response timeout or the context's deadline passed
	StatusCanceled         = "CANCELED"          // the context was canceled
	ErrorNotConnected      = "not_connected"     // a client without an open connection
	ErrorConnectionClosed  = "connection_closed" // the connection closed before the response
)

// clientOutcome returns the outcome of an outbound call that returned err.
func clientOutcome(err error) outcome {
	if err == nil {
		return outcome{status: StatusOK}
	}
	var re *netmessage.RemoteError
	var ce *base.CloseError
	switch {
	case errors.As(err, &re):
		s := CodeName(re.Code)
		return outcome{s, s}
	case errors.Is(err, context.DeadlineExceeded): // base.ErrRequestTimeout too
		return outcome{StatusDeadlineExceeded, StatusDeadlineExceeded}
	case errors.Is(err, context.Canceled):
		return outcome{StatusCanceled, StatusCanceled}
	case errors.Is(err, base.ErrNotConnected):
		return outcome{"", ErrorNotConnected}
	case errors.As(err, &ce), errors.Is(err, base.ErrClosed):
		return outcome{"", ErrorConnectionClosed}
	}
	return outcome{"", semconv.ErrorTypeOther.Value.AsString()}
}

// serverOutcome returns the outcome of an inbound call whose interceptors
// returned err: the code its caller gets, as netmessage sends it.
func serverOutcome(err error) outcome {
	if err == nil {
		return outcome{status: StatusOK}
	}
	var re *netmessage.RemoteError
	code := netmessage.CodeHandler
	switch {
	case errors.As(err, &re):
		if re.Code != 0 {
			code = re.Code
		}
	case errors.Is(err, context.Canceled):
		code = netmessage.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		code = netmessage.CodeDeadlineExceeded
	}
	s := CodeName(code)
	return outcome{s, s}
}

var codeNames [256]string

func init() {
	for i := range codeNames {
		c := netmessage.ErrorCode(i)
		switch c {
		case netmessage.CodeCanceled:
			codeNames[i] = StatusCanceled
		case netmessage.CodeDeadlineExceeded:
			codeNames[i] = StatusDeadlineExceeded
		default:
			s := c.String()
			if strings.HasPrefix(s, "ErrorCode(") {
				codeNames[i] = strconv.Itoa(i)
			} else {
				codeNames[i] = snake(s, true)
			}
		}
	}
}

// CodeName returns the rpc.response.status_code of a remote error's code:
// its name in upper snake case ("PERMISSION_DENIED", "HANDLER_ERROR",
// "UNHANDLED_REQUEST"), or its number for a code this end does not know.
func CodeName(c netmessage.ErrorCode) string { return codeNames[c] }

// snake returns s with spaces as underscores, in upper case if upper, else
// in lower case.
func snake(s string, upper bool) string {
	s = strings.ReplaceAll(s, " ", "_")
	if upper {
		return strings.ToUpper(s)
	}
	return strings.ToLower(s)
}

// injector collects what a propagator injects, as the key/value pairs
// base.AppendMetadata takes.
type injector []string

// Get implements propagation.TextMapCarrier.
func (c *injector) Get(key string) string {
	for i := 0; i+1 < len(*c); i += 2 {
		if (*c)[i] == key {
			return (*c)[i+1]
		}
	}
	return ""
}

// Set implements propagation.TextMapCarrier. Metadata keys are kept in
// lower case, as base does.
func (c *injector) Set(key, value string) {
	*c = append(*c, strings.ToLower(key), value)
}

// Keys implements propagation.TextMapCarrier.
func (c *injector) Keys() []string {
	keys := make([]string, 0, len(*c)/2)
	for i := 0; i < len(*c); i += 2 {
		keys = append(keys, (*c)[i])
	}
	return keys
}

// extractor reads a propagator's keys from received metadata.
type extractor base.Metadata

// Get implements propagation.TextMapCarrier.
func (md extractor) Get(key string) string { return md[strings.ToLower(key)] }

// Set implements propagation.TextMapCarrier; received metadata is not
// changed.
func (extractor) Set(string, string) {}

// Keys implements propagation.TextMapCarrier.
func (md extractor) Keys() []string {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	return keys
}
