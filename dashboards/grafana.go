package dashboards

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Dashboard is the part of Grafana's dashboard JSON model that culprit's
// dashboards use.
type Dashboard struct {
	File        string                    `json:"-"`
	UID         string                    `json:"uid"`
	Title       string                    `json:"title"`
	Panels      []Panel                   `json:"panels"`
	Templating  struct{ List []Variable } `json:"templating"`
	Annotations struct {
		List []Annotation `json:"list"`
	} `json:"annotations"`
}

// Panel is one panel and its queries.
type Panel struct {
	ID          int          `json:"id"`
	Title       string       `json:"title"`
	Type        string       `json:"type"`
	Datasource  *DataRef     `json:"datasource"`
	Targets     []Target     `json:"targets"`
	FieldConfig *fieldConfig `json:"fieldConfig"`
}

type fieldConfig struct {
	Overrides []struct {
		Properties []struct {
			ID    string          `json:"id"`
			Value json.RawMessage `json:"value"`
		} `json:"properties"`
	} `json:"overrides"`
}

// Links returns the data-link URLs of the panel's field overrides.
func (p Panel) Links() []string {
	var out []string
	if p.FieldConfig == nil {
		return nil
	}
	for _, o := range p.FieldConfig.Overrides {
		for _, pr := range o.Properties {
			if pr.ID != "links" {
				continue
			}
			var ls []struct {
				URL string `json:"url"`
			}
			if json.Unmarshal(pr.Value, &ls) == nil {
				for _, l := range ls {
					out = append(out, l.URL)
				}
			}
		}
	}
	return out
}

// DataRef names a datasource.
type DataRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Target is one query of the ClickHouse plugin (SQL editor).
type Target struct {
	RefID      string   `json:"refId"`
	Datasource *DataRef `json:"datasource"`
	EditorType string   `json:"editorType"`
	Format     *int     `json:"format"`
	QueryType  string   `json:"queryType"`
	RawSQL     string   `json:"rawSql"`
}

// Formats of the plugin's queries (grafana-plugin-sdk-go sqlutil.FormatQueryOption).
const (
	FormatTimeSeries = 0
	FormatTable      = 1
)

// Variable is a template variable.
type Variable struct {
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Datasource *DataRef `json:"datasource"`
	Query      string   `json:"query"`
	Multi      bool     `json:"multi"`
	IncludeAll bool     `json:"includeAll"`
	AllValue   string   `json:"allValue"`
}

// Annotation is an annotation query.
type Annotation struct {
	Name       string   `json:"name"`
	BuiltIn    int      `json:"builtIn"`
	Datasource *DataRef `json:"datasource"`
	Target     *Target  `json:"target"`
}

// Load parses every dashboard in fsys's grafana/ directory.
func Load(fsys fs.FS) ([]Dashboard, error) {
	names, err := fs.Glob(fsys, "grafana/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Dashboard
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", n, err)
		}
		d.File = path.Base(n)
		out = append(out, d)
	}
	return out, nil
}

// Selection is the value of a variable when a query runs: All, or values.
type Selection struct {
	All    bool
	Values []string
}

// Query is what Grafana needs to turn a panel's SQL into what the plugin
// sends to ClickHouse.
type Query struct {
	From, To time.Time
	Interval time.Duration
	Vars     map[string]Selection
	// Options are the values a query variable offers (used for All when
	// the variable has no custom all value).
	Options map[string][]string
}

// varRef matches Grafana's three variable syntaxes: $name, ${name},
// ${name:format} and [[name]].
var varRef = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:}]+))?(?::([^}]+))?\}`)

// macro matches the plugin's macros, with their argument when they take one.
var macro = regexp.MustCompile(`\$__(\w+)(?:\(([^()]*)\))?`)

// References returns the variables sql refers to (Grafana's built-ins,
// which start with "__", excluded).
func References(sql string) []string {
	var out []string
	for _, m := range varRef.FindAllStringSubmatch(sql, -1) {
		name := m[1] + m[2] + m[4]
		if !strings.HasPrefix(name, "__") {
			out = append(out, name)
		}
	}
	return out
}

// Expand does what Grafana does before ClickHouse sees a query: the
// frontend interpolates template variables (a custom all value inserted
// as it is, other values formatted), then the plugin's backend expands its
// macros ($__timeFilter, $__fromTime, $__toTime, $__interval_s, ...).
func Expand(sql string, vars []Variable, q Query) (string, error) {
	defs := map[string]Variable{}
	for _, v := range vars {
		defs[v.Name] = v
	}
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	out := varRef.ReplaceAllStringFunc(sql, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name, format := m[1]+m[2]+m[4], m[3]+m[6]
		if strings.HasPrefix(name, "__") {
			return ref // a macro or built-in: the backend's business
		}
		v, ok := defs[name]
		if !ok {
			fail(fmt.Errorf("variable $%s is not defined", name))
			return ref
		}
		sel := q.Vars[name]
		if v.Type == "constant" && len(sel.Values) == 0 && !sel.All {
			sel.Values = []string{v.Query}
		}
		if sel.All {
			if !v.IncludeAll {
				fail(fmt.Errorf("variable $%s has no All option", name))
			}
			if v.AllValue != "" {
				return v.AllValue
			}
			sel.Values = q.Options[name]
		}
		if len(sel.Values) == 0 {
			fail(fmt.Errorf("variable $%s has no value", name))
			return ref
		}
		if len(sel.Values) > 1 && !v.Multi {
			fail(fmt.Errorf("variable $%s is not multi-value", name))
		}
		switch format {
		case "singlequote":
			quoted := make([]string, len(sel.Values))
			for i, s := range sel.Values {
				quoted[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
			}
			return strings.Join(quoted, ",")
		case "", "raw", "csv":
			return strings.Join(sel.Values, ",")
		default:
			fail(fmt.Errorf("variable $%s: format %q not handled", name, format))
			return ref
		}
	})
	if firstErr != nil {
		return "", firstErr
	}
	from, to := q.From.Unix(), q.To.Unix()
	intervalS := max(int(q.Interval/time.Second), 1)
	out = macro.ReplaceAllStringFunc(out, func(s string) string {
		m := macro.FindStringSubmatch(s)
		arg := strings.TrimSpace(m[2])
		switch m[1] {
		case "timeFilter":
			if arg == "" {
				fail(fmt.Errorf("$__timeFilter needs a column"))
			}
			return fmt.Sprintf("%s >= toDateTime(%d) AND %s <= toDateTime(%d)", arg, from, arg, to)
		case "fromTime":
			return fmt.Sprintf("toDateTime(%d)", from)
		case "toTime":
			return fmt.Sprintf("toDateTime(%d)", to)
		case "interval_s":
			return strconv.Itoa(intervalS)
		case "timeInterval", "timeInterval_ms", "timeFilter_ms", "fromTime_ms", "toTime_ms":
			// Real macros, but they expand to toStartOfInterval or
			// DateTime64, which ClickHouse 18.16 lacks.
			fail(fmt.Errorf("macro $__%s expands to SQL that ClickHouse 18.16 cannot run", m[1]))
		default:
			fail(fmt.Errorf("unknown macro $__%s", m[1]))
		}
		return s
	})
	return out, firstErr
}
