package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"sync"
	"time"

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/examples/typesafe/packets"
	"github.com/netmessage-go/netmessage/netmessage"
)

// printer serialises lines from the hooks of both ends.
type printer struct {
	mu sync.Mutex
	w  io.Writer
	// lines, if set, gets each line printed, when it has room.
	lines chan string
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	fmt.Fprintln(p.w, line)
	select {
	case p.lines <- line:
	default:
	}
}

var forecasts = []string{"sunny", "cloudy", "rainy", "windy", "snowy"}

// forecast makes up a stable forecast for a city and day.
func forecast(r packets.WeatherRequest) packets.WeatherResponse {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s %s", r.City, r.Date.Format(time.DateOnly))
	n := h.Sum32()
	return packets.WeatherResponse{City: r.City, Forecast: forecasts[n%uint32(len(forecasts))], Degrees: int(n%35) - 5}
}

// register installs the same handlers on either end: print chat messages,
// answer weather and time requests. who names the end in the output.
func register(r *netmessage.Mux, out *printer, who string) error {
	if err := netmessage.HandleMessage(r, func(_ context.Context, _ *base.Session, m packets.ChatMessage) {
		out.printf("%s: received message #%d from %s: %q", who, m.Seq, m.From, m.Text)
	}); err != nil {
		return err
	}
	if err := netmessage.HandleRequest(r, func(_ context.Context, _ *base.Session, req packets.WeatherRequest) (packets.WeatherResponse, error) {
		out.printf("%s: received a weather request for %q on %s", who, req.City, req.Date.Format(time.DateOnly))
		if req.City == "" {
			return packets.WeatherResponse{}, netmessage.Errorf(netmessage.CodeInvalidArgument, "no city given")
		}
		return forecast(req), nil
	}); err != nil {
		return err
	}
	return netmessage.HandleRequest(r, func(_ context.Context, _ *base.Session, _ packets.TimeRequest) (packets.TimeResponse, error) {
		out.printf("%s: received a time request", who)
		return packets.TimeResponse{Now: time.Now()}, nil
	})
}

// askWeather sends a weather request to p (a session, or a client) and
// prints the typed answer.
func askWeather[P netmessage.Peer](ctx context.Context, p P, out *printer, who, city string) error {
	resp, err := netmessage.Request(ctx, p, packets.WeatherRequest{City: city, Date: time.Now()})
	if err != nil {
		return fmt.Errorf("weather request: %w", err)
	}
	out.printf("%s: weather in %s: %s, %d°C", who, resp.City, resp.Forecast, resp.Degrees)
	return nil
}

// askTime sends a time request to p and prints the answer.
func askTime[P netmessage.Peer](ctx context.Context, p P, out *printer, who string) error {
	resp, err := netmessage.Request(ctx, p, packets.TimeRequest{})
	if err != nil {
		return fmt.Errorf("time request: %w", err)
	}
	out.printf("%s: peer's clock says %s", who, resp.Now.Format(time.TimeOnly))
	return nil
}
