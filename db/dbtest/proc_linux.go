package dbtest

import (
	"os/exec"
	"syscall"
)

// configureProcess puts the server in its own process group and has the
// kernel kill it when the thread that started it (locked for the purpose)
// ends, which happens at the latest when the test binary exits.
func configureProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// terminate signals the process group of pid.
func terminate(pid int, kill bool) error {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-pid, sig); err != nil && err != syscall.ESRCH {
		return err
	}
	return nil
}
