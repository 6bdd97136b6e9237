package nmotel

import (
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Option configures a Telemetry.
type Option interface{ apply(*config) }

type option func(*config)

func (o option) apply(c *config) { o(c) }

type config struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	prop propagation.TextMapPropagator
}

// WithTracerProvider sets the TracerProvider spans are made with (default:
// the global one, otel.GetTracerProvider). A nil tp keeps the default.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return option(func(c *config) {
		if tp != nil {
			c.tp = tp
		}
	})
}

// WithMeterProvider sets the MeterProvider the metrics are recorded with
// (default: the global one, otel.GetMeterProvider). A nil mp keeps the
// default.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return option(func(c *config) {
		if mp != nil {
			c.mp = mp
		}
	})
}

// WithPropagators sets the propagator that writes the trace context into a
// call's metadata and reads it back (default: the global one,
// otel.GetTextMapPropagator, which propagates nothing until the
// application sets one, for example
// propagation.NewCompositeTextMapPropagator(propagation.TraceContext{},
// propagation.Baggage{})). A nil p keeps the default.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return option(func(c *config) {
		if p != nil {
			c.prop = p
		}
	})
}
