package analyzer_test

import (
	"fmt"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
	"github.com/culprit-dev/culprit/parser"
)

// The streaming path: one engine per partition (events keyed by service),
// Add for every parsed line, Advance with the wall clock minus a delay when
// the input is idle so incidents close on time, Drain after each batch to
// upsert what changed (by id, highest version wins), Flush on shutdown.
func Example() {
	eng, err := analyzer.New(analyzer.Config{EmitOpen: true})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)
	p, _ := parser.New(parser.Options{})
	var ev parser.Event
	p.Parse([]byte("2026/11/25 14:03:00 [error] 7#7: *41 connect() failed (111: Connection refused) while connecting to upstream, "+
		`client: 10.0.0.9, server: shop, request: "GET / HTTP/1.1", upstream: "http://127.0.0.1:4000/", host: "shop"`), &ev)
	in := analyzer.Evidence{Event: ev, Origin: analyzer.Origin{Path: "error.log", Host: "proxy-1"}}
	eng.Add(&in) // copies what it keeps: ev may be reused
	for i := 0; i < 5; i++ {
		req := analyzer.Evidence{Event: parser.Event{Kind: parser.KindRequest, Time: t0.Add(time.Duration(i) * time.Second),
			Status: 502, CID: int64(41 + i), UpstreamAddr: []string{"127.0.0.1:4000"}, UpstreamStatus: []int{502},
			UpstreamHeaderTime: []float64{parser.Absent}}}
		eng.Add(&req)
	}
	for _, inc := range eng.Drain() {
		fmt.Println(inc.Upstream, inc.Requests, inc.Open, inc.Version)
	}
	eng.Advance(t0.Add(5 * time.Minute)) // idle input: the clock moves on
	for _, inc := range eng.Drain() {
		fmt.Println(inc.Upstream, inc.Requests, inc.Open, inc.Version, inc.Cause)
	}
	// Output:
	// 127.0.0.1:4000 5 true 1
	// 127.0.0.1:4000 5 false 2 backend_down
}

// Links: where each 5xx went. The first report comes with the incident;
// a late error line revises only the link it explains.
func ExampleEngine_DrainLinks() {
	eng, err := analyzer.New(analyzer.Config{EmitOpen: true})
	if err != nil {
		panic(err)
	}
	eng.EmitLinks()
	t0 := time.Date(2026, 11, 25, 14, 3, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		eng.Add(&analyzer.Evidence{Event: parser.Event{Kind: parser.KindRequest, Time: t0.Add(time.Duration(i) * time.Second),
			Status: 502, CID: int64(41 + i), UpstreamAddr: []string{"127.0.0.1:4000"}, UpstreamStatus: []int{502},
			UpstreamHeaderTime: []float64{parser.Absent}},
			Origin: analyzer.Origin{Host: "proxy-1", FileID: "2049:131:9f3a", Offset: int64(i) * 180}})
	}
	show := func() {
		for _, inc := range eng.Drain() {
			fmt.Println("incident", inc.ID, "version", inc.Version)
		}
		for _, l := range eng.DrainLinks() {
			fmt.Println(l.FileID, l.Offset, l.Class, l.Incident, l.Version)
		}
	}
	show()
	eng.Add(&analyzer.Evidence{Event: parser.Event{Kind: parser.KindProxyError, Time: t0.Add(time.Second), CID: 42,
		Class: parser.ClassUpstreamRefused, Upstream: "http://127.0.0.1:4000/"}, Origin: analyzer.Origin{Host: "proxy-1"}})
	show()
	// Output:
	// incident d47e8f2557e48006 version 1
	// 2049:131:9f3a 0 no_response d47e8f2557e48006 1
	// 2049:131:9f3a 180 no_response d47e8f2557e48006 1
	// 2049:131:9f3a 360 no_response d47e8f2557e48006 1
	// incident d47e8f2557e48006 version 2
	// 2049:131:9f3a 180 upstream_refused d47e8f2557e48006 2
}
