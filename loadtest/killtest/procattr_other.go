//go:build !linux

package killtest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
