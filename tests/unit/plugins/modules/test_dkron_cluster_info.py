"""How dkron_cluster_info summarises a member, on a member record from Dkron 4.1.2."""

from ansible_collections.hacron.dkron.plugins.modules.dkron_cluster_info import summarise_member

# GET /v1/members from a Dkron 4.1.2 server started with `tags: {zone: a}`.
MEMBER = {
    "Name": "cron-a",
    "Addr": "192.0.2.11",
    "Port": 8946,
    "Tags": {
        "dc": "dc1",
        "expect": "1",
        "port": "6868",
        "region": "global",
        "role": "dkron",
        "rpc_addr": "192.0.2.11:6868",
        "server": "true",
        "version": "4.1.2",
        "zone": "a",
    },
    "Status": 1,
    "ProtocolMin": 1,
    "ProtocolMax": 5,
    "ProtocolCur": 2,
    "DelegateMin": 2,
    "DelegateMax": 5,
    "DelegateCur": 4,
    "id": "da4c63e1-c2b0-5094-2539-299aba89ff1b",
    "statusText": "alive",
}


def test_member_summary_keeps_user_tags_only():
    assert summarise_member(MEMBER) == {
        "name": "cron-a",
        "status": "alive",
        "server": True,
        "version": "4.1.2",
        "address": "192.0.2.11:8946",
        "rpc_address": "192.0.2.11:6868",
        "datacenter": "dc1",
        "region": "global",
        "tags": {"zone": "a"},
    }


def test_agent_member_is_not_a_server():
    agent = dict(MEMBER, Name="worker-1", Tags=dict(MEMBER["Tags"], server="false"))
    assert summarise_member(agent)["server"] is False
