package main

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/agnivade/levenshtein"
	"go.yaml.in/yaml/v3"
)

// fileProblems are the problems of a config file's settings, each naming
// its line and setting: the file was read, and the other settings hold.
type fileProblems struct {
	path string
	errs []error
}

func (p *fileProblems) Error() string { return errors.Join(p.errs...).Error() }

// Unwrap lists the problems (problems() prints one a line).
func (p *fileProblems) Unwrap() []error { return p.errs }

func isFileProblems(err error) bool {
	var p *fileProblems
	return errors.As(err, &p)
}

// readConfigFile decodes the YAML file at path over c: settings absent
// from the file keep their value. A file that cannot be read or parsed is
// a plain error. Unknown keys (with the closest known one) and values of
// the wrong type are *fileProblems, each with its line, and the rest of
// the file is still read.
func readConfigFile(path string, c *serveConfig) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if len(root.Content) == 0 {
		return nil // an empty file: every default
	}
	var errs []error
	lines := map[int]string{} // line of a value → its setting
	checkKeys(root.Content[0], reflect.TypeFor[serveConfig](), "", lines, &errs)
	if err := root.Content[0].Decode(c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return fmt.Errorf("config %s: %w", path, err)
		}
		for _, m := range te.Errors {
			errs = append(errs, typeProblem(m, lines))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	for i, e := range errs {
		errs[i] = fmt.Errorf("%s %w", path, e)
	}
	return &fileProblems{path: path, errs: errs}
}

// checkKeys reports the keys of n that t (a section of serveConfig) does
// not have, and records the line of each setting's value.
func checkKeys(n *yaml.Node, t reflect.Type, prefix string, lines map[int]string, errs *[]error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := map[string]reflect.Type{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
			names = append(names, name)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				msg := fmt.Sprintf("line %d: unknown setting %s%s", k.Line, prefix, k.Value)
				if s := closest(k.Value, names); s != "" {
					msg += " (did you mean " + s + "?)"
				}
				*errs = append(*errs, errors.New(msg))
				continue
			}
			lines[v.Line] = prefix + k.Value
			checkKeys(v, ft, prefix+k.Value+".", lines, errs)
		}
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && n.Kind == yaml.SequenceNode:
		base := strings.TrimSuffix(prefix, ".")
		for i, item := range n.Content {
			checkKeys(item, t.Elem(), fmt.Sprintf("%s[%d].", base, i), lines, errs)
		}
	}
}

// closest is the known key nearest to key (case aside, or at most a
// third of its letters off), "" when none is near.
func closest(key string, known []string) string {
	best, bestD := "", len(key)/3+1
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return k
		}
		if d := levenshtein.ComputeDistance(strings.ToLower(k), strings.ToLower(key)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

var yamlLine = regexp.MustCompile(`^line (\d+): `)

// typeProblem names the setting of a yaml type error ("line 3: cannot
// unmarshal !!str `soon` into time.Duration").
func typeProblem(msg string, lines map[int]string) error {
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return errors.New(msg)
	}
	n, _ := strconv.Atoi(m[1])
	rest := strings.TrimPrefix(msg, m[0])
	if p := lines[n]; p != "" {
		return fmt.Errorf("line %d: %s: %s", n, p, rest)
	}
	return errors.New(msg)
}
