"""PushSubscriptionStore on SQLite: a job's Web Push subscriptions, one per endpoint."""

from __future__ import annotations

from uuid import UUID

from stereospot.adapters.local.sqlite import Database
from stereospot.domain.ports import PushSubscription

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS push_subscriptions (
        job_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        PRIMARY KEY (job_id, endpoint)
    )""",
)


class SqlitePushSubscriptionStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._db.ensure_schema(_SCHEMA)

    def add(self, job_id: UUID, subscription: PushSubscription) -> None:
        """Add, or replace the keys of the same endpoint (a browser renews them)."""
        with self._db.write() as db:
            db.execute(
                "INSERT INTO push_subscriptions (job_id, endpoint, p256dh, auth)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (job_id, endpoint)"
                " DO UPDATE SET p256dh = excluded.p256dh, auth = excluded.auth",
                (str(job_id), subscription.endpoint, subscription.p256dh, subscription.auth),
            )

    def list(self, job_id: UUID) -> list[PushSubscription]:
        rows = (
            self._db.connection()
            .execute(
                "SELECT endpoint, p256dh, auth FROM push_subscriptions"
                " WHERE job_id = ? ORDER BY endpoint",
                (str(job_id),),
            )
            .fetchall()
        )
        return [PushSubscription(endpoint=e, p256dh=p, auth=a) for e, p, a in rows]

    def remove(self, job_id: UUID, endpoint: str) -> None:
        with self._db.write() as db:
            db.execute(
                "DELETE FROM push_subscriptions WHERE job_id = ? AND endpoint = ?",
                (str(job_id), endpoint),
            )

    def delete_job(self, job_id: UUID) -> None:
        with self._db.write() as db:
            db.execute("DELETE FROM push_subscriptions WHERE job_id = ?", (str(job_id),))
