// Package packets holds the packet types the typesafe example's server and
// client share. Each request names its response type by embedding
// netmessage.Returns, so the compiler checks every handler and call.
package packets

import (
	"time"

	"github.com/netmessage-go/netmessage/netmessage"
)

// ChatMessage is a one-way text message, sent either way.
type ChatMessage struct {
	From string
	Text string
	Seq  int
}

// WeatherRequest asks for the forecast of a city on a day.
type WeatherRequest struct {
	netmessage.Returns[WeatherResponse]
	City string
	Date time.Time
}

// WeatherResponse answers a WeatherRequest.
type WeatherResponse struct {
	City     string
	Forecast string
	Degrees  int
}

// TimeRequest asks the peer for its clock.
type TimeRequest struct {
	netmessage.Returns[TimeResponse]
}

// TimeResponse answers a TimeRequest.
type TimeResponse struct {
	Now time.Time
}
