package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(context.Background(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestPragmas(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[string]string{"journal_mode": "wal", "synchronous": "1", "busy_timeout": "5000", "temp_store": "2", "query_only": "0", "wal_autocheckpoint": "10000"}
	for name, v := range want {
		if got := pragma(t, s.w, name); got != v {
			t.Errorf("writer PRAGMA %s = %s, want %s", name, got, v)
		}
	}
	// Every reader connection gets its pragmas: hold several at once.
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 {
		c, err := s.r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		for name, v := range map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "temp_store": "2", "query_only": "1"} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != v {
				t.Errorf("reader %d PRAGMA %s = %s, want %s", i, name, got, v)
			}
		}
		if _, err := c.ExecContext(ctx, "INSERT INTO counters (key, value) VALUES ('x', 1)"); err == nil {
			t.Errorf("reader %d could write", i)
		}
		c.Close()
	}
	if n := s.w.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", n)
	}
}

func TestTimeLayoutSorts(t *testing.T) {
	// Zero time, before and after 1970, the year 2262 limit of int64 nanoseconds.
	ts := []string{"0001-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z",
		"2023-07-05T10:00:00.1Z", "2023-07-05T10:00:00.123456789Z", "2300-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z"}
	prev := ""
	for _, s := range ts {
		tm, err := parseRFC(s)
		if err != nil {
			t.Fatal(err)
		}
		f := fmtTime(tm)
		if f <= prev {
			t.Errorf("%s sorts before %s", f, prev)
		}
		prev = f
		back, err := parseTime(f)
		if err != nil || !back.Equal(tm) || back.Location().String() != "UTC" {
			t.Errorf("round trip of %s = %v, %v", s, back, err)
		}
	}
}

func parseRFC(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
