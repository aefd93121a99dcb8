"""Writes tests/unit/plugins/module_utils/fixtures/robfig_next.json: the next runs of cron schedules
around daylight-saving changes, as robfig/cron v3.0.1 (the version Dkron 4.1 builds with) computes
them. The unit tests hold dkron_alert_rules.robfig_next to it. Needs Go and the Go module proxy:
`python tests/tools/robfig_next.py` from the checkout's root."""

import json
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "unit" / "plugins" / "module_utils" / "fixtures" / "robfig_next.json"
COUNT = 12
SPECS = ["0 0 3 * * *", "0 30 2 * * *", "0 0 2 * * *", "0 30 1 * * *", "0 0 0 * * *", "0 15 0 * * *",
         "0 0 */2 * * *", "0 */20 * * * *", "30 59 1 * * *", "0 0 0 29 2 *", "0 0 12 1 * 1", "0 0 1-3 * * *",
         "*/7 * 2 * * *", "0 45 1 * 3 0"]
# Changes at 2:00 and 3:00, at 1:00 UTC, at midnight (Havana, Beirut, Sao Paulo in 2018), by half an
# hour (Lord Howe), and none.
ZONES = ["Europe/Berlin", "America/New_York", "Europe/London", "America/Havana", "Asia/Beirut",
         "Australia/Lord_Howe", "America/Sao_Paulo", "UTC"]
STARTS = ["2026-03-28T12:00:00Z", "2026-10-24T12:00:00Z", "2018-11-03T12:00:00Z", "2026-04-04T00:00:00Z"]


def main():
    cases = [dict(spec=spec, zone=zone, start=start) for spec in SPECS for zone in ZONES for start in STARTS]
    lines = "".join("%d\t%d\tCRON_TZ=%s %s\n" % (
        datetime.fromisoformat(case["start"].replace("Z", "+00:00")).astimezone(timezone.utc).timestamp(),
        COUNT, case["zone"], case["spec"]) for case in cases)
    with tempfile.TemporaryDirectory() as build:
        binary = Path(build) / "robfig_next"
        subprocess.run(["go", "build", "-o", str(binary), "."], cwd=HERE / "robfig_next", check=True)
        output = subprocess.run([str(binary)], input=lines, capture_output=True, text=True, check=True).stdout
    for case, line in zip(cases, output.splitlines()):
        case["next"] = [int(value) for value in line.split()]
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    body = ",\n".join(json.dumps(case, separators=(",", ":")) for case in cases)
    FIXTURE.write_text('{"source": "robfig/cron v3.0.1 SpecSchedule.Next", "cases": [\n%s\n]}\n' % body)
    print("%d cases written to %s" % (len(cases), FIXTURE))


if __name__ == "__main__":
    main()
