"""The tests' tree removal, against a real ZooKeeper: everything goes, deep and wide."""

from __future__ import annotations

from kazoo.client import KazooClient

from harness.zk_clients import DELETES_PER_TRANSACTION, remove_tree


def test_a_deep_and_wide_tree_is_removed_whole(kazoo_client: KazooClient) -> None:
    # More empty leaves than one transaction takes, beside a few deep branches.
    wide = DELETES_PER_TRANSACTION + 30
    transaction = kazoo_client.transaction()
    kazoo_client.ensure_path("/t/wide")
    for n in range(wide):
        transaction.create(f"/t/wide/{n}")
    assert not any(isinstance(r, Exception) for r in transaction.commit())
    for n in range(5):
        kazoo_client.create(f"/t/wide/{n * 100}/a/b/c", b"x", makepath=True)
    kazoo_client.create("/t/z/y", makepath=True)

    assert remove_tree(kazoo_client, "/t")

    assert kazoo_client.exists("/t") is None
    assert remove_tree(kazoo_client, "/t")  # nothing there: nothing to do
