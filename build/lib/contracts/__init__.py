"""The chain side of agentdao: compiled artifacts, deployment, the embedded chain."""
