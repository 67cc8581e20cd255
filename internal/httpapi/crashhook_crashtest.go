//go:build crashtest

package httpapi

import (
	"os"
	"syscall"
)

// A test hook, compiled only with the build tag crashtest (the crash tests
// in internal/replicas build serve so): with AFTERSALE_TEST_CRASH_AFTER_COMMIT
// set, the process kills itself with SIGKILL right after the first
// idempotent request's transaction commits, before the answer is sent.
func init() {
	if os.Getenv("AFTERSALE_TEST_CRASH_AFTER_COMMIT") != "" {
		afterCommit.Store(func() {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		})
	}
}
