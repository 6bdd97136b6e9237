package nmotel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/netmessage-go/netmessage/netmessage"
)

var (
	// As slices, passed on as they are: no slice per measurement.
	marshalSet   = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(systemAttr, OperationKey.String("marshal")))}
	unmarshalSet = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(systemAttr, OperationKey.String("unmarshal")))}
)

// Serializer returns s measuring, in netmessage.serializer.body.size, the
// bodies of the requests, responses and messages a Mux sends and receives
// (a Broadcast's once); give it to the Mux with netmessage.WithSerializer.
// The serializer returned has the optional methods s has
// (netmessage.DecodeBounder, netmessage.MarshalAppender), so the Mux's
// limits and buffers work as with s. What a body leaves out:
// docs/observability.md ("Metrics").
func (t *Telemetry) Serializer(s netmessage.Serializer) netmessage.Serializer {
	m := &sized{s: s, hist: t.bodySize}
	_, bound := s.(netmessage.DecodeBounder)
	_, appender := s.(netmessage.MarshalAppender)
	switch {
	case bound && appender:
		return sizedBoth{m}
	case bound:
		return sizedBound{m}
	case appender:
		return sizedAppender{m}
	}
	return m
}

// sized is a Serializer that records the sizes of what it encodes and
// decodes.
type sized struct {
	s    netmessage.Serializer
	hist metric.Int64Histogram
}

func (m *sized) Marshal(v any) ([]byte, error) {
	b, err := m.s.Marshal(v)
	if err == nil {
		m.hist.Record(context.Background(), int64(len(b)), marshalSet...)
	}
	return b, err
}

func (m *sized) Unmarshal(data []byte, v any) error {
	m.hist.Record(context.Background(), int64(len(data)), unmarshalSet...)
	return m.s.Unmarshal(data, v)
}

func (m *sized) Name() string { return m.s.Name() }

func (m *sized) marshalAppend(dst []byte, v any) ([]byte, error) {
	b, err := m.s.(netmessage.MarshalAppender).MarshalAppend(dst, v)
	if err == nil {
		m.hist.Record(context.Background(), int64(len(b)-len(dst)), marshalSet...)
	}
	return b, err
}

func (m *sized) decodeBound() (perByte, fixed int) {
	return m.s.(netmessage.DecodeBounder).DecodeBound()
}

type sizedBound struct{ *sized }

func (m sizedBound) DecodeBound() (perByte, fixed int) { return m.decodeBound() }

type sizedAppender struct{ *sized }

func (m sizedAppender) MarshalAppend(dst []byte, v any) ([]byte, error) {
	return m.marshalAppend(dst, v)
}

type sizedBoth struct{ *sized }

func (m sizedBoth) DecodeBound() (perByte, fixed int) { return m.decodeBound() }

func (m sizedBoth) MarshalAppend(dst []byte, v any) ([]byte, error) {
	return m.marshalAppend(dst, v)
}
