//go:build !linux

package dbtest

import (
	"os"
	"os/exec"
)

// configureProcess has nothing to set outside Linux: without TestMain
// calling Main the server outlives the test binary there.
func configureProcess(cmd *exec.Cmd) {}

// terminate ends the process pid (without a process group, only it).
func terminate(pid int, kill bool) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	if err := p.Kill(); err != nil && err != os.ErrProcessDone {
		return err
	}
	return nil
}
