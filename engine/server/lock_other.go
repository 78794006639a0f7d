//go:build !unix

package server

func isLockBusy(error) bool { return false }

func lockHolder(string) int { return 0 }
