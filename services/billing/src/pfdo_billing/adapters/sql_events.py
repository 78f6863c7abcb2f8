"""Outbox rows built in SQL for set-based use cases (month close, period opening): the
CloudEvents envelope is assembled with jsonb_build_object in the same INSERT ... SELECT that
reads the result rows, so 100 000 events cost one statement, not 100 000 model instances.
The shapes match the contracts' models (the integration tests decode them with those models)."""

from __future__ import annotations

from pfdo_contracts.envelope import Event
from pfdo_plumbing.kafka.topics import TopicNames


def outbox_insert(model: type[Event], *, data_sql: str, key_sql: str, from_sql: str, names: TopicNames,
                  source: str) -> str:
    """``INSERT INTO outbox ... SELECT`` one event of ``model`` per row of ``from_sql``.

    ``data_sql`` and ``key_sql`` are expressions over ``from_sql``; the statement binds
    ``:corr`` (correlation id), ``:cause`` (causation id, may be null) and ``:event_time`` (the
    business clock's now, :func:`pfdo_plumbing.clock.now`)."""
    topic = names.name(model.topic).replace("'", "''")
    etype = model.versioned_type()
    return f"""
    INSERT INTO outbox (event_id, topic, key, event_type, payload)
    SELECT ev.id, '{topic}', ev.key, '{etype}', jsonb_build_object(
        'specversion', '1.0', 'id', ev.id, 'source', '{source}', 'type', '{etype}',
        'time', to_char(CAST(:event_time AS timestamptz) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'subject', ev.key, 'datacontenttype', 'application/json',
        'correlationid', CAST(:corr AS text), 'causationid', CAST(:cause AS text), 'data', ev.data)
    FROM (SELECT gen_random_uuid() AS id, ({key_sql})::text AS key, {data_sql} AS data {from_sql}) ev
    """
