"""HTTP plumbing every client shares: bounded reads and deadlines, retry policy, header values, error lines."""
