//go:build !race

package mpp_test

const raceEnabled = false
