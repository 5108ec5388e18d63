"""Step 3: builds stored in ZooKeeper. The only package that imports kazoo."""
