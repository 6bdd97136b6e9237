package packets

import (
	"time"

	"github.com/netmessage-go/netmessage/netmessage"
)

// ChatMessage is a one-way text message, sent either way.
type ChatMessage struct {
	From string // who sent it
	Text string // the message
	Seq  int    // the message's number at its sender, from 1
}

// WeatherRequest asks for the forecast of a city on a day.
type WeatherRequest struct {
	netmessage.Returns[WeatherResponse]
	City string    // the city's name
	Date time.Time // the day of the forecast
}

// WeatherResponse answers a WeatherRequest.
type WeatherResponse struct {
	City     string // the city of the request
	Forecast string // the weather in words, such as "sunny"
	Degrees  int    // the temperature in degrees Celsius
}

// TimeRequest asks the peer for its clock.
type TimeRequest struct {
	netmessage.Returns[TimeResponse]
}

// TimeResponse answers a TimeRequest.
type TimeResponse struct {
	Now time.Time // the peer's clock when it answered
}
