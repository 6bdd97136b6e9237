package dotnetxml_test

import (
	"fmt"
	"time"

	"github.com/netmessage-go/netmessage/serializers/dotnetxml"
)

// WeatherRequest is the C# class
//
//	public class WeatherRequest { public string City { get; set; } public DateTime Date { get; set; } }
type WeatherRequest struct {
	City string
	Date time.Time
}

func Example() {
	s := dotnetxml.New()
	data, err := s.Marshal(WeatherRequest{City: "Bonn", Date: time.Date(2026, 1, 2, 0, 0, 0, 0, time.Local)})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(data))

	var r WeatherRequest
	err = s.Unmarshal([]byte(`<WeatherRequest><City>Redmond</City><Date>2026-11-25T12:00:00Z</Date></WeatherRequest>`), &r)
	fmt.Println(r.City, r.Date, err)
	// Output:
	// <WeatherRequest><City>Bonn</City><Date>2026-01-02T00:00:00</Date></WeatherRequest>
	// Redmond 2026-11-25 12:00:00 +0000 UTC <nil>
}

// Report is sent as the .NET class DailyReport.
type Report struct {
	Summary string `dotnet:"Text"` // the C# property is called Text
	Codes   []int32
}

func (Report) DotNetName() string { return "DailyReport" }

func ExampleClassNamer() {
	data, _ := dotnetxml.New().Marshal(Report{Summary: "ok", Codes: []int32{1, 2}})
	fmt.Println(string(data))
	// Output: <DailyReport><Text>ok</Text><Codes><int>1</int><int>2</int></Codes></DailyReport>
}

// A DateTime .NET writes without a zone is read as its wall clock in
// Unspecified, so it goes back byte for byte even if the wall clock does
// not exist in the process's zone (2:30 on 29 March 2026 in Berlin).
func ExampleUnspecified() {
	s := dotnetxml.New()
	var r WeatherRequest
	if err := s.Unmarshal([]byte(`<WeatherRequest><Date>2026-03-29T02:30:00</Date></WeatherRequest>`), &r); err != nil {
		panic(err)
	}
	fmt.Println(r.Date, r.Date.Location() == dotnetxml.Unspecified)
	data, _ := s.Marshal(r)
	fmt.Println(string(data))

	// To give the wall clock an instant, place it in a zone (in
	// Europe/Berlin time.Date would move this one to 03:30).
	cest := time.FixedZone("CEST", 2*3600)
	d := r.Date
	fmt.Println(time.Date(d.Year(), d.Month(), d.Day(), d.Hour(), d.Minute(), d.Second(), d.Nanosecond(), cest))
	// Output:
	// 2026-03-29 02:30:00 +0000 Unspecified true
	// <WeatherRequest><Date>2026-03-29T02:30:00</Date></WeatherRequest>
	// 2026-03-29 02:30:00 +0200 CEST
}
