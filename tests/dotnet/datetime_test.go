package interop

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // TZ below, on machines without a zone database

	"github.com/netmessage-go/netmessage/base"
	"github.com/netmessage-go/netmessage/netmessage"
	"github.com/netmessage-go/netmessage/netmessage/dotnet"
)

// StampRequest and StampResponse carry what a Go server echoes to a .NET
// client: DateTimes of every kind and a list with null items.
type (
	StampResponse struct {
		Times []time.Time
		Names []*string
	}
	StampRequest struct {
		netmessage.Returns[StampResponse]
		Times []time.Time
		Names []*string
	}
)

// stampProperties are DateTimes as .NET writes them: Berlin's and Sydney's
// spring gaps and autumn overlaps, Sao Paulo's gap at midnight, MinValue
// and MaxValue without a zone (unspecified kind, and local as Mono writes
// it) and in UTC; then a list with a null item.
const stampProperties = "<Times>" +
	"<dateTime>2026-03-29T02:30:00</dateTime><dateTime>2026-10-25T02:30:00</dateTime>" +
	"<dateTime>2026-10-04T02:30:00</dateTime><dateTime>2026-04-05T02:30:00.5</dateTime>" +
	"<dateTime>2018-11-04T00:30:00</dateTime>" +
	"<dateTime>0001-01-01T00:00:00</dateTime><dateTime>9999-12-31T23:59:59.9999999</dateTime>" +
	"<dateTime>0001-01-01T00:00:00Z</dateTime><dateTime>9999-12-31T23:59:59.9999999Z</dateTime>" +
	"</Times><Names><string>a</string>" +
	`<string xsi:nil="true" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" />` +
	"</Names>"

// echoZoneEnv names the zone a child process of TestDateTimeEchoZones
// checks that it runs in.
const echoZoneEnv = "NETMESSAGE_TEST_ECHO_ZONE"

// TestDateTimeEchoZones: a Go server echoes the DateTimes and null items a
// .NET client sends byte for byte, in processes started with TZ set to
// UTC, a northern and two southern zones with daylight saving time.
func TestDateTimeEchoZones(t *testing.T) {
	if zone := os.Getenv(echoZoneEnv); zone != "" {
		echoStamps(t, zone)
		return
	}
	for _, zone := range []string{"UTC", "Europe/Berlin", "Australia/Sydney", "America/Sao_Paulo"} {
		t.Run(zone, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDateTimeEchoZones$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), "TZ="+zone, echoZoneEnv+"="+zone)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestDateTimeEchoZones") {
				t.Fatalf("under TZ=%s: %v\n%s", zone, err, out)
			}
		})
	}
}

func echoStamps(t *testing.T, zone string) {
	if _, off := time.Date(2026, 1, 15, 12, 0, 0, 0, time.Local).Zone(); zone != "UTC" && off == 0 {
		t.Fatalf("TZ=%s had no effect", zone)
	}
	s := startServer(t, func(srv *netmessage.Mux) {
		netmessage.HandleRequest(srv, func(_ context.Context, _ *base.Session, r StampRequest) (StampResponse, error) {
			return StampResponse{Times: r.Times, Names: r.Names}, nil
		})
	}, dotnet.Namespace("Interop", StampRequest{}, StampResponse{}))
	raw := dialRaw(t, s.addr)
	raw.send(">Interop.StampRequest:0:<StampRequest>" + stampProperties + "</StampRequest>\x04")
	raw.expect("<Interop.StampResponse:0:<StampResponse>" + stampProperties + "</StampResponse>\x04")
	s.ev.noErrors(t)
}
