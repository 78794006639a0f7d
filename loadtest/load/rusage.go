package load

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is a process's CPU time: user+system, and system (the
// kernel's part: system calls, the network stack, wake-ups).
type cpuTime struct{ total, system time.Duration }

func (a cpuTime) sub(b cpuTime) cpuTime { return cpuTime{a.total - b.total, a.system - b.system} }

// processCPU is this process's CPU time (getrusage).
func processCPU() (cpuTime, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuTime{}, fmt.Errorf("load: getrusage: %w", err)
	}
	return cpuTime{time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), time.Duration(ru.Stime.Nano())}, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux configuration Go supports.
const clockTicks = 100

// pidCPU is another process's CPU time from /proc/PID/stat (Linux).
func pidCPU(pid int) (cpuTime, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return cpuTime{}, fmt.Errorf("load: target CPU: %w", err)
	}
	// The command name (field 2) may hold spaces; fields after ')' are
	// 3 (state) onwards, utime and stime are 14 and 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return cpuTime{}, fmt.Errorf("load: target CPU: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return cpuTime{}, fmt.Errorf("load: target CPU: malformed /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return cpuTime{}, fmt.Errorf("load: target CPU: malformed /proc/%d/stat", pid)
	}
	return cpuTime{time.Duration(ut+st) * time.Second / clockTicks, time.Duration(st) * time.Second / clockTicks}, nil
}
