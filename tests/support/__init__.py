"""What the tests share: running Ansible as a user does (ansible_runs), a real Dkron cluster on
loopback (dkron_loopback), job records as Dkron's API takes and stores them (jobs), and a molecule
scenario's hosts read from its inventory (topology)."""
