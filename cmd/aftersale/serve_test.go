package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"aftersale/internal/httpapi"
)

// serve's flags default to the AFTERSALE_* environment; a flag given wins.
func TestServeFlagsAndEnv(t *testing.T) {
	env := map[string]string{"AFTERSALE_ADDR": "0.0.0.0:9000", "AFTERSALE_DATABASE_URL": "postgres://db/x", "AFTERSALE_SANDBOX": "true",
		"AFTERSALE_API_KEYS": "platform:pppppppppppppppp"}
	o, err := parseServe(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "0.0.0.0:9000" || o.db != "postgres://db/x" || !o.sandbox || o.keys != "platform:pppppppppppppppp" {
		t.Fatalf("%+v", o)
	}
	o, err = parseServe([]string{"--addr", "127.0.0.1:0", "--db", "x.db", "--sandbox=false"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || o.addr != "127.0.0.1:0" || o.db != "x.db" || o.sandbox {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = parseServe(nil, func(string) string { return "" }, io.Discard)
	if err != nil || o.addr != "127.0.0.1:8080" || o.db != "aftersale.db" || o.sandbox {
		t.Fatalf("defaults %+v %v", o, err)
	}
}

// Keys come from the file and the environment; with none, one platform and
// one operator key are generated and printed once to stderr.
func TestServeKeys(t *testing.T) {
	var errb bytes.Buffer
	keys, err := loadKeys(serveOptions{}, &errb)
	if err != nil || len(keys) != 2 || keys[0].Role != httpapi.RolePlatform || keys[1].Role != httpapi.RoleOperator {
		t.Fatalf("%v %v", keys, err)
	}
	out := errb.String()
	if strings.Count(out, "platform_") != 2 || strings.Count(out, "operator_") != 2 || !strings.Contains(out, "ONCE") {
		t.Fatalf("generated keys note:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(file, []byte("# keys\nplatform:aaaaaaaaaaaaaaaaaaaa\n\noperator:bbbbbbbbbbbbbbbbbbbb\n"), 0o600)
	errb.Reset()
	keys, err = loadKeys(serveOptions{keysFile: file, keys: "operator:cccccccccccccccccccc"}, &errb)
	if err != nil || len(keys) != 3 || errb.Len() != 0 {
		t.Fatalf("%v %v %q", keys, err, errb.String())
	}
	if keys[0] != httpapi.NewKey(httpapi.RolePlatform, "aaaaaaaaaaaaaaaaaaaa") {
		t.Fatal("file key not hashed as expected")
	}
	for _, bad := range []string{"admin:aaaaaaaaaaaaaaaaaaaa", "platform:short", "justakeywithoutrole"} {
		if _, err := loadKeys(serveOptions{keys: bad}, io.Discard); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "aaaaaaaaaaaa") {
			t.Errorf("error shows the secret: %v", err)
		}
	}
}

// The usage text lists serve.
func TestUsageListsServe(t *testing.T) {
	_, out, _ := runCLI("help")
	if !strings.Contains(out, "aftersale serve") {
		t.Fatalf("usage:\n%s", out)
	}
}
