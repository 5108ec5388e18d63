"""Cloud providers: they create, find, poll and delete resources, and know nothing of ZooKeeper."""
