package consume

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/culprit-dev/culprit/analyzer"
)

// WebhookConfig is one receiver of incident notifications.
type WebhookConfig struct {
	URL string `yaml:"url"`
	// Format: "json" (the incident as culprit explain --json prints it),
	// "slack" (an incoming-webhook message) or "alertmanager" (an
	// Alertmanager /api/v2/alerts array, so existing routing applies).
	Format string `yaml:"format"`
}

// Notification says why an incident is being sent.
type Notification string

const (
	NotifyOpened       Notification = "opened"
	NotifyCauseChanged Notification = "cause_changed"
	NotifyClosed       Notification = "closed"
	// NotifyMerged: a late 5xx joined this incident to another one, which
	// now carries its requests; the message points there.
	NotifyMerged Notification = "merged"
)

// Notifier posts an incident when it opens, when its cause changes and
// when it closes; other revisions (more requests, more evidence) are not
// worth a message. It remembers what it told about each incident, so a
// closed incident written again (a late revision, a restarted correlator)
// is not announced twice unless its cause changed.
type Notifier struct {
	hooks  []WebhookConfig
	client *http.Client
	log    *slog.Logger
	told   map[string]told // incident id -> what was last announced
	// Sent counts delivered notifications (for tests and metrics).
	Sent int
}

type told struct {
	cause  analyzer.Cause
	closed bool
	merged bool
}

// maxTold bounds the memory of announced incidents; closed ones go first.
const maxTold = 10000

// NewNotifier posts to hooks; nil when there are none.
func NewNotifier(hooks []WebhookConfig, log *slog.Logger) *Notifier {
	if len(hooks) == 0 {
		return nil
	}
	return &Notifier{hooks: hooks, client: &http.Client{Timeout: 5 * time.Second}, log: log,
		told: map[string]told{}}
}

// Notify looks at incident revisions and posts what deserves a message.
// Delivery failures are logged, not returned: an unreachable chat must not
// stop incidents from being stored.
func (n *Notifier) Notify(ctx context.Context, incs []analyzer.Incident) {
	if n == nil {
		return
	}
	for i := range incs {
		in := &incs[i]
		prev, known := n.told[in.ID]
		var why Notification
		switch {
		case in.MergedInto != "" && (!known || prev.closed && prev.merged):
			// Never announced (nothing to take back), or already told.
			continue
		case in.MergedInto != "":
			why = NotifyMerged
		case !known && in.Open:
			why = NotifyOpened
		case !known:
			// Opened and closed between two looks (or found in a backfill):
			// one message, the closed one.
			why = NotifyClosed
		case prev.cause != in.Cause:
			why = NotifyCauseChanged
		case !in.Open && !prev.closed:
			why = NotifyClosed
		default:
			continue
		}
		if len(n.told) >= maxTold {
			for id, t := range n.told {
				if t.closed {
					delete(n.told, id)
				}
			}
		}
		n.told[in.ID] = told{cause: in.Cause, closed: !in.Open || in.MergedInto != "", merged: in.MergedInto != ""}
		for _, h := range n.hooks {
			if err := n.post(ctx, h, why, in); err != nil {
				n.log.Warn("incident webhook failed", "url", h.URL, "incident", in.ID, "event", why, "err", err)
				continue
			}
			n.Sent++
		}
	}
}

func (n *Notifier) post(ctx context.Context, h WebhookConfig, why Notification, in *analyzer.Incident) error {
	body, err := Payload(h.Format, why, in)
	if err != nil {
		return err
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 && !sleep(ctx, time.Duration(attempt)*500*time.Millisecond) {
			return ctx.Err()
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := n.client.Do(req)
		if err != nil {
			last = err
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("HTTP %s", resp.Status)
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests {
			return last // the receiver refuses this payload: retrying will not help
		}
	}
	return last
}

// Payload renders a notification in format ("json", "slack", "alertmanager").
func Payload(format string, why Notification, in *analyzer.Incident) ([]byte, error) {
	where := in.Upstream
	if where == "" {
		where = in.Server
	}
	switch format {
	case "", "json":
		return json.Marshal(struct {
			Event    Notification       `json:"event"`
			Incident *analyzer.Incident `json:"incident"`
		}{why, in})
	case "slack":
		if why == NotifyMerged {
			text := fmt.Sprintf("*culprit: incident %s* on `%s` merged into incident %s: a later request showed it is the same failure, its requests are counted there.",
				in.ID, where, in.MergedInto)
			return json.Marshal(map[string]string{"text": text})
		}
		verb := map[Notification]string{NotifyOpened: "opened", NotifyCauseChanged: "cause changed", NotifyClosed: "closed"}[why]
		text := fmt.Sprintf("*culprit: incident %s* on `%s` (service %s): *%s* (confidence %.0f%%), %d requests failed since %s.\n%s\n*Fix:* %s",
			verb, where, orDash(in.Service), in.Cause, in.Confidence*100, in.Requests, in.Start.UTC().Format(time.RFC3339),
			in.Summary, in.Fix)
		return json.Marshal(map[string]string{"text": text})
	case "alertmanager":
		a := map[string]any{
			"labels": map[string]string{"alertname": "CulpritIncident", "severity": "critical", "service": in.Service,
				"upstream": where, "cause": string(in.Cause), "incident_id": in.ID},
			"annotations": map[string]string{"summary": in.Summary, "fix": in.Fix,
				"requests": fmt.Sprint(in.Requests), "confidence": fmt.Sprintf("%.2f", in.Confidence)},
			"startsAt": in.Start.UTC().Format(time.RFC3339),
		}
		if in.MergedInto != "" {
			a["annotations"].(map[string]string)["merged_into"] = in.MergedInto
		}
		if !in.Open || in.MergedInto != "" {
			// endsAt in the past resolves the alert (a merged id's alert
			// lives on as the survivor's).
			a["endsAt"] = in.End.UTC().Format(time.RFC3339)
		}
		return json.Marshal([]any{a})
	}
	return nil, fmt.Errorf("webhook format %q: want json, slack or alertmanager", format)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
