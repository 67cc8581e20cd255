// Package cputime reads CPU time for benchmarks and load tools. On a shared
// machine CPU time per item is steadier than wall time, and on PostgreSQL the
// machine's total shows the database server's share as well as the client's.
package cputime

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is the user+system CPU time this process has used so far.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Machine is the CPU time every process on the machine has used so far
// (Linux /proc/stat: user, nice, system, irq and softirq; idle, iowait and
// steal, the time a virtual machine waited for its host, are not), in 10 ms
// ticks; 0 where /proc/stat cannot be read.
// It includes other people's jobs on a shared machine: compare it with
// the load, and over runs long enough for the ticks not to matter.
func Machine() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	return parseStat(string(raw))
}

// parseStat sums the busy fields of /proc/stat's first ("cpu") line.
func parseStat(stat string) time.Duration {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0
		}
		ticks += v
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// Meter adds up the CPU time of a benchmark's timed stretches: this
// process's and the whole machine's. The zero Meter is ready to use.
type Meter struct {
	proc, machine time.Duration
	p0, m0        time.Duration
}

// Start begins a timed stretch (with b.StartTimer).
func (m *Meter) Start() { m.p0, m.m0 = Process(), Machine() }

// Stop ends the stretch Start began (with b.StopTimer).
func (m *Meter) Stop() {
	m.proc += Process() - m.p0
	m.machine += Machine() - m.m0
}

// Report reports items per second of b's timed run ("unit/s"), this
// process's CPU µs per item ("cpu-µs/unit") and, when machine is set, the
// machine's ("machine-cpu-µs/unit": on PostgreSQL, the server's share too).
func (m *Meter) Report(b *testing.B, items int, unit string, machine bool) {
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(float64(m.proc.Microseconds())/float64(items), "cpu-µs/"+unit)
	if machine {
		b.ReportMetric(float64(m.machine.Microseconds())/float64(items), "machine-cpu-µs/"+unit)
	}
}
