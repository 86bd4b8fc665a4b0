package llm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
)

// FieldKind says what a verdict field holds.
type FieldKind int

const (
	// Text is a non-empty JSON string, such as a reason.
	Text FieldKind = iota
	// Integer is a JSON number with an integral value in [Min, Max].
	Integer
	// Choice is a JSON string equal (ignoring case and surrounding space) to
	// one of Choices; the verdict holds the choice as spelled in Choices.
	Choice
)

// Field is one key of the JSON verdict a template asks for.
type Field struct {
	Key  string
	Kind FieldKind
	// Min and Max bound an Integer field.
	Min, Max int
	// Choices lists the values of a Choice field.
	Choices []string
	// Hint describes a Text field in the format line, e.g. "one sentence".
	Hint string
}

// placeholder is how the field is shown in the format line.
func (f Field) placeholder() string {
	switch f.Kind {
	case Integer:
		return fmt.Sprintf("<integer %d-%d>", f.Min, f.Max)
	case Choice:
		return `"` + strings.Join(f.Choices, " or ") + `"`
	default:
		hint := f.Hint
		if hint == "" {
			hint = "text"
		}
		return `"<` + hint + `>"`
	}
}

// Template is a versioned judge prompt. System and User are Go text/template
// texts over the data given to Render plus:
//
//	.ID       the boundary id of this call
//	.Format   the JSON object the judge must reply with
//
// and the functions {{fence .ID "TAG" .Text}} (the fenced untrusted text),
// {{open .ID "TAG"}} and {{close .ID "TAG"}} (the two markers, to name them in
// instructions). A missing data key is an error.
//
// The template is constant: changing its text, its fields or its revision
// changes its Version.
type Template struct {
	// Name is the judge kind, e.g. "rubric".
	Name string
	// Revision is bumped by hand when the text changes on purpose.
	Revision int
	System   string
	User     string
	// Fields are the keys of the verdict, besides "id".
	Fields []Field

	once     sync.Once
	sys, usr *template.Template
	version  string
	err      error
}

// reminder is the second message sent when a verdict could not be read; it is
// part of every template's version.
const reminder = "Your reply could not be read: %s. Reply again with only this JSON object, filled in, and nothing else:\n%s"

var funcs = template.FuncMap{
	"fence": Fence,
	"open":  openMarker,
	"close": closeMarker,
}

func (t *Template) init() {
	t.once.Do(func() {
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s\x00%s\x00", t.Name, t.Revision, t.System, t.User, reminder)
		for _, f := range t.Fields {
			fmt.Fprintf(h, "%s\x00%d\x00%d\x00%d\x00%s\x00%s\x00", f.Key, f.Kind, f.Min, f.Max, strings.Join(f.Choices, "\x01"), f.Hint)
		}
		t.version = fmt.Sprintf("%s@v%d+%s", t.Name, t.Revision, hex.EncodeToString(h.Sum(nil))[:12])
		t.sys, t.err = template.New(t.Name + ".system").Option("missingkey=error").Funcs(funcs).Parse(t.System)
		if t.err != nil {
			return
		}
		t.usr, t.err = template.New(t.Name + ".user").Option("missingkey=error").Funcs(funcs).Parse(t.User)
		if t.err == nil {
			for _, f := range t.Fields {
				if f.Key == "id" {
					t.err = fmt.Errorf("llm: template %s: field key %q is reserved", t.Name, f.Key)
				}
			}
		}
	})
}

// Version returns "name@vN+" and the first 12 hex digits of the SHA-256 of
// the template (its texts, fields and the reminder).
func (t *Template) Version() string {
	t.init()
	return t.version
}

// Prompt is a rendered judge prompt, ready for Ask.
type Prompt struct {
	System, User string
	// ID is the boundary id; the verdict must repeat it.
	ID string
	// Version is the template's version.
	Version string
	fields  []Field
}

// Render fills the template with data (untrusted values are fenced by the
// template itself). The boundary id is derived from the template version and
// every data value, so the same inputs always give the same prompt (and the
// response cache can serve it), while no fenced text can contain it.
func (t *Template) Render(data map[string]string) (Prompt, error) {
	t.init()
	if t.err != nil {
		return Prompt{}, t.err
	}
	id := boundaryID(t.version, data)
	d := make(map[string]string, len(data)+2)
	for k, v := range data {
		d[k] = v
	}
	d["ID"] = id
	d["Format"] = formatLine(id, t.Fields)
	var sys, usr strings.Builder
	if err := t.sys.Execute(&sys, d); err != nil {
		return Prompt{}, fmt.Errorf("llm: template %s: %w", t.Name, err)
	}
	if err := t.usr.Execute(&usr, d); err != nil {
		return Prompt{}, fmt.Errorf("llm: template %s: %w", t.Name, err)
	}
	return Prompt{System: sys.String(), User: usr.String(), ID: id, Version: t.version, fields: t.Fields}, nil
}

// formatLine is the JSON object the judge must reply with, with placeholders.
func formatLine(id string, fields []Field) string {
	var b strings.Builder
	b.WriteString(`{"id": ` + strconv.Quote(id))
	for _, f := range fields {
		b.WriteString(", " + strconv.Quote(f.Key) + ": " + f.placeholder())
	}
	b.WriteString("}")
	return b.String()
}

// boundaryID hashes the version and the data (keys sorted) into a 16-hex-digit
// id. A fenced text would have to contain the hash of itself to forge it.
func boundaryID(version string, data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	h.Write([]byte(version))
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s\x00%d\x00%s", k, len(data[k]), data[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func openMarker(id, tag string) string  { return "<<<" + tag + "-" + id + ">>>" }
func closeMarker(id, tag string) string { return "<<<END-" + tag + "-" + id + ">>>" }

// Neutralize breaks up every run of three or more '<' in text, so that no
// boundary marker (which all start with "<<<") can occur in it.
func Neutralize(text string) string {
	for strings.Contains(text, "<<<") {
		text = strings.ReplaceAll(text, "<<<", "<< <")
	}
	return text
}

// Fence returns text between the markers of tag and id, neutralized.
func Fence(id, tag, text string) string {
	return openMarker(id, tag) + "\n" + Neutralize(text) + "\n" + closeMarker(id, tag)
}
