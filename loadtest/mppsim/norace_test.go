//go:build !race

package mppsim_test

const raceEnabled = false
