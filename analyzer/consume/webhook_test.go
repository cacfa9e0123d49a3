package consume

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
)

type receiver struct {
	mu     sync.Mutex
	bodies []string
	status int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(b))
	if r.status != 0 {
		w.WriteHeader(r.status)
	}
}

func TestNotifier_OpenCauseChangeClose(t *testing.T) {
	slack, am, raw := &receiver{}, &receiver{}, &receiver{}
	servers := []*httptest.Server{httptest.NewServer(slack), httptest.NewServer(am), httptest.NewServer(raw)}
	for _, s := range servers {
		defer s.Close()
	}
	n := NewNotifier([]WebhookConfig{{servers[0].URL, "slack"}, {servers[1].URL, "alertmanager"}, {servers[2].URL, "json"}},
		testLogger(t))
	start := time.Date(2026, 11, 25, 16, 38, 46, 0, time.UTC)
	in := analyzer.Incident{ID: "abc", Service: "shop", Upstream: "127.0.0.1:18411", Start: start, End: start.Add(2 * time.Second),
		Requests: 10, Cause: analyzer.CauseBackendDown, Confidence: 0.5, Open: true, Summary: "refused", Fix: "start it"}
	ctx := context.Background()
	n.Notify(ctx, []analyzer.Incident{in}) // opened
	in.Requests = 30
	n.Notify(ctx, []analyzer.Incident{in}) // more of the same: no message
	in.Cause, in.Confidence, in.Summary = analyzer.CauseOOMKill, 0.9, "node was OOM-killed"
	n.Notify(ctx, []analyzer.Incident{in}) // cause changed
	in.Open, in.End = false, start.Add(4*time.Second)
	n.Notify(ctx, []analyzer.Incident{in}) // closed
	n.Notify(ctx, []analyzer.Incident{in}) // the closed revision written again: not announced twice
	if len(slack.bodies) != 3 || len(am.bodies) != 3 || len(raw.bodies) != 3 {
		t.Fatalf("deliveries: slack %d, alertmanager %d, json %d", len(slack.bodies), len(am.bodies), len(raw.bodies))
	}
	var events []string
	for _, b := range raw.bodies {
		var p struct {
			Event    string `json:"event"`
			Incident struct {
				Cause string `json:"cause"`
			} `json:"incident"`
		}
		if err := json.Unmarshal([]byte(b), &p); err != nil {
			t.Fatal(err)
		}
		events = append(events, p.Event+":"+p.Incident.Cause)
	}
	if got := strings.Join(events, " "); got != "opened:backend_down cause_changed:oom_kill closed:oom_kill" {
		t.Errorf("events %s", got)
	}
	var msg map[string]string
	if err := json.Unmarshal([]byte(slack.bodies[1]), &msg); err != nil || !strings.Contains(msg["text"], "oom_kill") ||
		!strings.Contains(msg["text"], "127.0.0.1:18411") {
		t.Errorf("slack message %q (%v)", slack.bodies[1], err)
	}
	var alerts []struct {
		Labels   map[string]string `json:"labels"`
		StartsAt string            `json:"startsAt"`
		EndsAt   string            `json:"endsAt"`
	}
	for i, b := range am.bodies[:3] {
		if err := json.Unmarshal([]byte(b), &alerts); err != nil || len(alerts) != 1 {
			t.Fatalf("alertmanager body %q: %v", b, err)
		}
		if alerts[0].Labels["alertname"] == "" || alerts[0].StartsAt != "2026-11-25T16:38:46Z" {
			t.Errorf("alert %d: %+v", i, alerts[0])
		}
		if resolved := alerts[0].EndsAt != ""; resolved != (i == 2) {
			t.Errorf("alert %d: endsAt %q (only the closed one resolves)", i, alerts[0].EndsAt)
		}
	}
}

func TestNotifier_RetriesServerErrorsNotClientErrors(t *testing.T) {
	down, refusing := &receiver{status: 503}, &receiver{status: 400}
	s1, s2 := httptest.NewServer(down), httptest.NewServer(refusing)
	defer s1.Close()
	defer s2.Close()
	n := NewNotifier([]WebhookConfig{{s1.URL, "json"}, {s2.URL, "json"}}, testLogger(t))
	n.Notify(context.Background(), []analyzer.Incident{{ID: "x", Open: true, Cause: analyzer.CauseCrash}})
	if len(down.bodies) != 3 || len(refusing.bodies) != 1 || n.Sent != 0 {
		t.Errorf("503 receiver got %d tries, 400 receiver %d, sent %d; want 3, 1, 0", len(down.bodies), len(refusing.bodies), n.Sent)
	}
}

// A late 5xx joins an announced incident to another: one "merged" message
// pointing at the survivor, which resolves the alert; an id never
// announced gets no message at all.
func TestNotifier_Merged(t *testing.T) {
	slack, am, raw := &receiver{}, &receiver{}, &receiver{}
	servers := []*httptest.Server{httptest.NewServer(slack), httptest.NewServer(am), httptest.NewServer(raw)}
	for _, s := range servers {
		defer s.Close()
	}
	n := NewNotifier([]WebhookConfig{{servers[0].URL, "slack"}, {servers[1].URL, "alertmanager"}, {servers[2].URL, "json"}},
		testLogger(t))
	start := time.Date(2026, 11, 25, 16, 38, 46, 0, time.UTC)
	a := analyzer.Incident{ID: "aaa", Upstream: "127.0.0.1:18411", Start: start, End: start.Add(2 * time.Second),
		Requests: 10, Cause: analyzer.CauseCrash, Confidence: 0.8, Open: true}
	ctx := context.Background()
	n.Notify(ctx, []analyzer.Incident{a}) // opened
	gone := a
	gone.MergedInto, gone.Open, gone.Requests = "bbb", false, 0
	never := gone
	never.ID = "ccc"
	n.Notify(ctx, []analyzer.Incident{gone, never})
	n.Notify(ctx, []analyzer.Incident{gone}) // written again: told once
	if len(slack.bodies) != 2 || len(am.bodies) != 2 || len(raw.bodies) != 2 {
		t.Fatalf("deliveries: slack %d, alertmanager %d, json %d", len(slack.bodies), len(am.bodies), len(raw.bodies))
	}
	var p struct {
		Event    string `json:"event"`
		Incident struct {
			ID         string `json:"id"`
			MergedInto string `json:"merged_into"`
		} `json:"incident"`
	}
	if err := json.Unmarshal([]byte(raw.bodies[1]), &p); err != nil || p.Event != "merged" || p.Incident.ID != "aaa" ||
		p.Incident.MergedInto != "bbb" {
		t.Errorf("json: %s (%v)", raw.bodies[1], err)
	}
	var msg map[string]string
	if err := json.Unmarshal([]byte(slack.bodies[1]), &msg); err != nil || !strings.Contains(msg["text"], "merged into incident bbb") {
		t.Errorf("slack message %q (%v)", slack.bodies[1], err)
	}
	var alerts []struct {
		Annotations map[string]string `json:"annotations"`
		EndsAt      string            `json:"endsAt"`
	}
	if err := json.Unmarshal([]byte(am.bodies[1]), &alerts); err != nil || len(alerts) != 1 || alerts[0].EndsAt == "" ||
		alerts[0].Annotations["merged_into"] != "bbb" {
		t.Errorf("alertmanager: %s (%v)", am.bodies[1], err)
	}
}
