package cputime

import (
	"testing"
	"time"
)

func TestParseStatSumsBusyFields(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  100 20 30 5000 700 4 6 10 0 0\ncpu0 50 10 15 2500 350 2 3 5 0 0\n"
	if got, want := parseStat(stat), 160*10*time.Millisecond; got != want {
		t.Fatalf("parseStat = %v, want %v (idle, iowait and steal are not this machine's work)", got, want)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu 1 x 3 4 5 6 7 8", "cpu 1 2 3 4 5 6 x 8"} {
		if got := parseStat(bad); got != 0 {
			t.Fatalf("parseStat(%q) = %v, want 0", bad, got)
		}
	}
}

func TestProcessAndMachineAdvance(t *testing.T) {
	p0, m0 := Process(), Machine()
	deadline := time.Now().Add(150 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	if p := Process() - p0; p <= 0 {
		t.Fatalf("process CPU did not advance over a busy loop (%d turns): %v", x, p)
	}
	if m0 != 0 && Machine() < m0 {
		t.Fatal("machine CPU went backwards")
	}
}
