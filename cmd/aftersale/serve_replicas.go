package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"aftersale/internal/policy"
)

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// addReplicaFlags adds serve's flags for running it as one of several
// replicas (docs/replicas.md): the operator's policy versions, which every
// replica must load alike, whether it fires timers, and the webhook lease.
func addReplicaFlags(s *settings, o *serveOptions) {
	if v := s.getenv("AFTERSALE_POLICY_FILES"); v != "" {
		o.policyFiles = strings.Split(v, ",")
	}
	s.fs.Var((*stringList)(&o.policyFiles), "policy",
		"a file of policy versions to add to the embedded defaults, as `aftersale policy check --patch` checks them; repeatable; give every replica the same files (env AFTERSALE_POLICY_FILES, comma-separated)")
	s.boolVar(&o.timers, "timers", "AFTERSALE_TIMERS", true,
		"fire due timers on this replica; --timers=false makes an API-only replica, and at least one replica on the database must fire them (env AFTERSALE_TIMERS)")
	s.durationVar(&o.webhookLease, "webhook-lease", "AFTERSALE_WEBHOOK_LEASE", time.Minute,
		"how long a webhook delivery being sent is this replica's; one that dies mid-send leaves it to the others that long (env AFTERSALE_WEBHOOK_LEASE)")
}

// checkReplicaFlags refuses a webhook lease too short to send within.
func checkReplicaFlags(s *settings, o serveOptions) {
	if o.webhookLease < time.Second {
		s.fail(fmt.Errorf("--webhook-lease %s: want at least 1s (the sender's timeout is half of it)", o.webhookLease))
	}
}

// loadPolicy returns the embedded policy with the operator's versions from
// files added; every problem is printed as "FILE: path: message".
func loadPolicy(files []string, stderr io.Writer) (*policy.Registry, error) {
	reg, err := policy.Default()
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		f, issues := policy.ParsePatch(name, data)
		for _, is := range issues {
			fmt.Fprintln(stderr, policy.FileIssue{File: name, Issue: is})
		}
		if len(issues) > 0 {
			return nil, fmt.Errorf("--policy %s: %d problem(s)", name, len(issues))
		}
		if err := reg.Add(f); err != nil {
			var ie *policy.IssueError
			if errors.As(err, &ie) {
				for _, is := range ie.Issues {
					fmt.Fprintln(stderr, is)
				}
			}
			return nil, fmt.Errorf("--policy %s: %w", name, err)
		}
	}
	return reg, nil
}
