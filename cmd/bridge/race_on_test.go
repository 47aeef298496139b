//go:build race

package main

// raceDetector: the race detector multiplies a process's resident memory,
// so memory bounds are checked on the Go heap instead.
const raceDetector = true
