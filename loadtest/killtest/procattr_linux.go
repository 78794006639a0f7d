package killtest

import "syscall"

// sysProcAttr makes the kernel kill paycode processes the harness started
// if the test process dies first (a test timeout, say).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
