package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// settings defines serve's flags over their AFTERSALE_* variables with one
// parser a type for both, and collects every value that does not parse,
// named by its variable or flag, so that one start reports them all
// (docs/config.md). A flag given wins over its variable, so a bad variable
// whose flag is given is not reported.
type settings struct {
	fs     *flag.FlagSet
	getenv func(string) string
	envBad []envError // bad variables, in the order their flags were defined
	bad    []error    // bad flags, then values out of range
}

// envError is a variable that does not parse, and the flag that wins over it.
type envError struct {
	flag string
	err  error
}

// kind is how a flag's values are parsed and shown.
type kind[T any] struct {
	typ   string // as the help shows it; "" for a bool flag, which needs no value
	want  string // what a bad value is told to be
	parse func(string) (T, error)
	show  func(T) string
}

var (
	boolKind = kind[bool]{"", "true or false", strconv.ParseBool, strconv.FormatBool}
	intKind  = kind[int]{"int", "a whole number", strconv.Atoi, strconv.Itoa}
	durKind  = kind[time.Duration]{"duration", "a duration such as 30s, 30m or 12h", time.ParseDuration, time.Duration.String}
	strKind  = kind[string]{"string", "", func(s string) (string, error) { return s, nil }, func(s string) string { return s }}
)

// value is a flag.Value that records a bad value instead of stopping the
// parse at it.
type value[T any] struct {
	p    *T
	name string
	k    kind[T]
	s    *settings
}

func (v *value[T]) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return v.k.show(*v.p)
}

func (v *value[T]) Set(x string) error {
	t, err := v.k.parse(x)
	if err != nil {
		v.s.fail(fmt.Errorf("--%s %q: want %s", v.name, x, v.k.want))
		return nil
	}
	*v.p = t
	return nil
}

// IsBoolFlag lets a bool flag stand alone (--sandbox).
func (v *value[T]) IsBoolFlag() bool { return v.k.typ == "" }

// define adds flag name, whose default is the variable env when set, else def.
func define[T any](s *settings, k kind[T], p *T, name, env string, def T, usage string) {
	*p = def
	if x := s.getenv(env); x != "" {
		if t, err := k.parse(x); err != nil {
			s.envBad = append(s.envBad, envError{name, fmt.Errorf("%s=%q: want %s", env, x, k.want)})
		} else {
			*p = t
		}
	}
	s.fs.Var(&value[T]{p: p, name: name, k: k, s: s}, name, usage)
}

func (s *settings) boolVar(p *bool, name, env string, def bool, usage string) {
	define(s, boolKind, p, name, env, def, usage)
}

func (s *settings) intVar(p *int, name, env string, def int, usage string) {
	define(s, intKind, p, name, env, def, usage)
}

func (s *settings) durationVar(p *time.Duration, name, env string, def time.Duration, usage string) {
	define(s, durKind, p, name, env, def, usage)
}

func (s *settings) stringVar(p *string, name, env, def, usage string) {
	define(s, strKind, p, name, env, def, usage)
}

// fail records a bad value.
func (s *settings) fail(err error) { s.bad = append(s.bad, err) }

// parse parses args; a flag that cannot be read at all (unknown, or without
// its value) stops it as the flag package does.
func (s *settings) parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	if s.fs.NArg() > 0 {
		s.fs.Usage()
		return fmt.Errorf("unexpected argument %q", s.fs.Arg(0))
	}
	return nil
}

// err returns every bad value, each on its own line of stderr too: the
// variables whose flag was not given, then the flags and ranges.
func (s *settings) err(stderr io.Writer) error {
	given := map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, e := range s.envBad {
		if !given[e.flag] {
			errs = append(errs, e.err)
		}
	}
	errs = append(errs, s.bad...)
	for _, e := range errs {
		fmt.Fprintln(stderr, e)
	}
	return errors.Join(errs...)
}

// printDefaults is flag.PrintDefaults, naming each value's type.
func (s *settings) printDefaults(w io.Writer) {
	s.fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		name, usage := flag.UnquoteUsage(f)
		if t, ok := f.Value.(interface{ typeName() string }); ok {
			name = t.typeName()
		}
		fmt.Fprintf(&b, "  -%s", f.Name)
		if name != "" {
			b.WriteString(" " + name)
		}
		if b.Len() <= 4 {
			b.WriteString("\t")
		} else {
			b.WriteString("\n    \t")
		}
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		zero := ""
		if z, ok := f.Value.(interface{ zero() string }); ok {
			zero = z.zero()
		}
		if f.DefValue != zero {
			if name == "string" {
				fmt.Fprintf(&b, " (default %q)", f.DefValue)
			} else {
				fmt.Fprintf(&b, " (default %v)", f.DefValue)
			}
		}
		fmt.Fprintln(w, b.String())
	})
}

func (v *value[T]) typeName() string { return v.k.typ }

// zero is how the type's zero value is shown (a default not worth showing).
func (v *value[T]) zero() string {
	var z T
	return v.k.show(z)
}
