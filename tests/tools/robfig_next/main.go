// The next runs of cron schedules as robfig/cron v3 (Dkron 4.1's scheduler) computes them: the truth
// that tests/unit/plugins/module_utils/fixtures/robfig_next.json records (tests/tools/robfig_next.py
// makes it; Go and the Go module proxy are needed only then).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// stdin lines: <unix start>\t<count>\t<spec with CRON_TZ= prefix>; stdout: unix times of the next runs.
func main() {
	parser := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	scanner := bufio.NewScanner(os.Stdin)
	for scanner.Scan() {
		parts := strings.SplitN(scanner.Text(), "\t", 3)
		start, _ := strconv.ParseInt(parts[0], 10, 64)
		count, _ := strconv.Atoi(parts[1])
		schedule, err := parser.Parse(parts[2])
		if err != nil {
			fmt.Println("error", err)
			continue
		}
		t := time.Unix(start, 0).UTC()
		out := []string{}
		for i := 0; i < count; i++ {
			t = schedule.Next(t)
			if t.IsZero() {
				out = append(out, "0")
				break
			}
			out = append(out, strconv.FormatInt(t.Unix(), 10))
		}
		fmt.Println(strings.Join(out, " "))
	}
}
