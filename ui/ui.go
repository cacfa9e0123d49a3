// Package ui is `culprit serve`: a small web UI over the incidents stored in
// ClickHouse, for people without Grafana. The incident list (newest first,
// filtered by service and cause) and an incident page with its 5xx
// timeline, the upstream-side events marked on it, the evidence lines and
// the suggested fix. Templates, CSS and the little script are embedded: the
// binary serves everything itself and the pages load nothing from elsewhere.
package ui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

//go:embed templates/*.html static
var assets embed.FS

// CSS is the stylesheet of the UI; `culprit explain --html` can inline the
// same so a report and the UI look alike.
//
//go:embed static/style.css
var CSS string

// Server serves the UI from a Reader.
type Server struct {
	reader Reader
	log    *slog.Logger
	pages  map[string]*template.Template
	mux    *http.ServeMux
	// QueryTimeout bounds the storage reads of one page.
	QueryTimeout time.Duration
}

// New returns the UI over r.
func New(r Reader, log *slog.Logger) (*Server, error) {
	s := &Server{reader: r, log: log, pages: map[string]*template.Template{}, mux: http.NewServeMux(),
		QueryTimeout: 20 * time.Second}
	funcs := template.FuncMap{
		"pct":      func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"clock":    func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
		"when":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"duration": func(a, b time.Time) string { return b.Sub(a).Round(time.Second).String() },
		"timeline": timelineSVG,
		"query": func(f Filter) string {
			v := url.Values{}
			if f.Service != "" {
				v.Set("service", f.Service)
			}
			if f.Cause != "" {
				v.Set("cause", f.Cause)
			}
			return v.Encode()
		},
	}
	for _, page := range []string{"list", "incident", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("ui: template %s: %w", page, err)
		}
		s.pages[page] = t
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("ui: %w", err)
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	s.mux.HandleFunc("GET /{$}", s.list)
	s.mux.HandleFunc("GET /incidents/{id}", s.incident)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

type listPage struct {
	Title     string
	Filter    Filter
	Services  []string
	Causes    []string
	Incidents []Incident
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.QueryTimeout)
	defer cancel()
	f := Filter{Service: r.URL.Query().Get("service"), Cause: r.URL.Query().Get("cause")}
	incs, err := s.reader.Incidents(ctx, f)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err)
		return
	}
	svcs, causes, err := s.reader.Facets(ctx)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err)
		return
	}
	s.render(w, r, http.StatusOK, "list", listPage{Title: "Incidents", Filter: f, Services: svcs, Causes: causes, Incidents: incs})
}

type incidentPage struct {
	Title string
	*Detail
}

var incidentID = regexp.MustCompile(`^[0-9a-zA-Z_-]{1,64}$`)

func (s *Server) incident(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !incidentID.MatchString(id) {
		s.fail(w, r, http.StatusNotFound, ErrNotFound)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.QueryTimeout)
	defer cancel()
	d, err := s.reader.Incident(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		s.fail(w, r, http.StatusNotFound, err)
		return
	case err != nil:
		s.fail(w, r, http.StatusBadGateway, err)
		return
	}
	s.render(w, r, http.StatusOK, "incident", incidentPage{Title: d.Cause + " · " + d.ID, Detail: d})
}

type errorPage struct {
	Title   string
	Status  int
	Message string
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= 500 {
		s.log.Error("ui: request failed", "path", r.URL.Path, "err", err)
	}
	msg := err.Error()
	if status >= 500 {
		msg = "the incident store did not answer; see the server's log"
	}
	s.render(w, r, status, "error", errorPage{Title: http.StatusText(status), Status: status, Message: msg})
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, data); err != nil {
		s.log.Error("ui: render", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
