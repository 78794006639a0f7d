//go:build race

package status_test

const raceEnabled = true
