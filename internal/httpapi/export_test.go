package httpapi

// CrashAfterCommit makes every idempotent request run f right after its
// change committed and before its answer is recorded and sent (f may panic
// with http.ErrAbortHandler to cut the connection, as a crash would). It
// returns the function that removes the hook.
func CrashAfterCommit(f func()) (restore func()) {
	afterCommit.Store(f)
	return func() { afterCommit.Store(func() {}) }
}
