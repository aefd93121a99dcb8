"""A screenshot of one of the cluster's web pages: Dkron's UI reached through the API proxy, after
logging in with basic auth, or Prometheus's alerts page on a monitoring host, through an SSH tunnel
to its loopback address (`make alerts-screenshot`; no credentials or CA then).

Drives Debian's chromium (apt install chromium) with Playwright's Python package, which brings
its driver but no browser (`make ui-screenshot` installs it into the virtualenv). The TLS
certificate is checked against the cluster's CA: Chromium reads trust from an NSS database, so the
CA is added to a throwaway one in the run's own HOME.

    python scripts/ui_screenshot.py --url https://172.30.0.11/ui/ --user admin \
        --ca ~/.cache/hacron/lab-ca.crt --out ui.png      # the password from DKRON_API_PASSWORD
    python scripts/ui_screenshot.py --url http://127.0.0.1:19090/classic/alerts --out alerts.png \
        --click 'tr.alert-danger.alert_header' --click 'tr.alert-warning.alert_header'
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from playwright.sync_api import sync_playwright


def trust_ca_in_nss(home, ca_path):
    """Chromium on Linux trusts what $HOME/.pki/nssdb trusts; put only our CA there."""
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb)
    subprocess.run(["certutil", "-d", "sql:" + nssdb, "-N", "--empty-password"], check=True)
    subprocess.run(["certutil", "-d", "sql:" + nssdb, "-A", "-t", "C,,", "-n", "hacron-ca", "-i", ca_path],
                   check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the page: the UI through the proxy (ending in /ui/), or a tunnel's")
    parser.add_argument("--user", default=os.environ.get("DKRON_API_USERNAME"))
    parser.add_argument("--ca", default=os.environ.get("DKRON_API_CA_PATH"), help="the CA certificate to trust")
    parser.add_argument("--out", default="ui.png")
    parser.add_argument("--click", action="append", default=[],
                        help="a CSS selector whose elements are clicked before the screenshot (repeatable)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    password = os.environ.get("DKRON_API_PASSWORD")
    if args.url.startswith("https:") and not (args.user and password and args.ca):
        sys.exit("through the proxy, give --user (or DKRON_API_USERNAME), DKRON_API_PASSWORD and --ca (or DKRON_API_CA_PATH)")
    if args.ca and not shutil.which("certutil"):
        sys.exit("certutil is missing: apt install libnss3-tools")

    with tempfile.TemporaryDirectory() as home, sync_playwright() as playwright:
        if args.ca:
            trust_ca_in_nss(home, args.ca)
        browser = playwright.chromium.launch(
            executable_path=args.chromium,
            env=dict(os.environ, HOME=home),
            # Root needs --no-sandbox; the rest keeps Chromium off the (closed) internet.
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            context = browser.new_context(
                http_credentials={"username": args.user, "password": password} if args.user else None,
                viewport={"width": 1280, "height": 800},
            )
            page = context.new_page()
            response = page.goto(args.url, wait_until="networkidle")
            if response is None or response.status != 200:
                sys.exit("the page answered %s" % (response.status if response else "nothing"))
            for selector in args.click:
                for element in page.query_selector_all(selector):
                    element.click()
            page.screenshot(path=args.out, full_page=True)
            print("%s: %s, title %r" % (args.out, args.url, page.title()))
        finally:
            browser.close()


if __name__ == "__main__":
    main()
