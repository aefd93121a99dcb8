# Copyright: (c) 2026, hacron.dkron contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options every module of hacron.dkron takes (see module_utils/dkron_api.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of a Dkron server's HTTP API. Only server nodes serve the API; agents have none.
      - If not set, the environment variable E(DKRON_API_URL) is used, then the default.
      - Dkron OSS has no authentication; keep its API reachable only from trusted hosts.
    type: str
    default: http://127.0.0.1:8080
  url_username:
    description:
      - User name for HTTP basic authentication, for a proxy in front of the API (the api_proxy role's).
      - If not set, the environment variable E(DKRON_API_USERNAME) is used.
    type: str
    aliases: [username]
  url_password:
    description:
      - Password for HTTP basic authentication, for a proxy in front of the API. Never logged.
      - If not set, the environment variable E(DKRON_API_PASSWORD) is used.
    type: str
    aliases: [password]
  validate_certs:
    description:
      - Whether to verify the TLS certificate of an HTTPS O(api_url).
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle to verify the TLS certificate of an HTTPS O(api_url) with (for the api_proxy
        role's private CA, C(/etc/hacron/tls/ca.crt) on the cluster's hosts).
      - If not set, the environment variable E(DKRON_API_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each answer from the API.
    type: float
    default: 10
notes:
  - Calls that meet a connection error, a cluster without a leader or a paused node are retried a
    few times with back-off (about 7 seconds in all) before the module fails.
"""
