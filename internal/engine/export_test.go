package engine

// MaxUpdateAttempts is maxUpdateAttempts, for the tests of the retry.
const MaxUpdateAttempts = maxUpdateAttempts
