package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/huiyin/huiyin"
	"github.com/huiyin/huiyin/db"
	"github.com/huiyin/huiyin/staff"
	"github.com/huiyin/huiyin/staff/staffstore"
)

// cmdUser manages staff accounts from the shell: the first admin must be
// made before anyone can sign in to make others.
func cmdUser(ctx context.Context, e env, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: huiyin user add USERNAME --role agent|lead|manager|admin [--name 姓名] [--department 部门] < password")
		return errUsage
	}
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	role := fs.String("role", "agent", "role: agent, lead, manager or admin")
	name := fs.String("name", "", "the person's name")
	dept := fs.String("department", "", "department id (engineering, customer_service, ...)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: huiyin user add USERNAME --role agent|lead|manager|admin [--name 姓名] [--department 部门] < password")
		fmt.Fprintln(stderr, "The password is read from the first line of standard input, so that it stays out of the shell history.")
		fs.PrintDefaults()
	}
	rest := args[1:]
	if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
		fs.Usage()
		return errUsage
	}
	username := rest[0]
	if err := fs.Parse(rest[1:]); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return fmt.Errorf("%w: 请从标准输入提供密码，例如 echo '密码' | huiyin user add %s --role %s", huiyin.ErrInvalid, username, *role)
	}
	log := e.logger(stderr)
	pool, err := openDatabase(ctx, e, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, log); err != nil {
		return err
	}
	m, err := staffstore.New(pool).Create(ctx, staff.NewMember{
		Username: username, Name: *name, Role: staff.Role(*role), Department: *dept, Password: password,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "已创建员工账号 %s（%s）\n", m.Username, m.Role.Name())
	return nil
}
