-- Trace context across the outbox. outbox.trace_parent (schema v1) holds the W3C traceparent of the span that wrote an
-- event; the dispatcher and every subscriber continue that trace. A dead letter keeps it, so a redriven event is still
-- part of the trace of the request that caused it.
alter table outbox_dead_letters add column trace_parent text;
comment on column outbox.trace_parent is 'W3C traceparent of the span that wrote the event (null when nothing was traced)';
comment on column outbox_dead_letters.trace_parent is 'outbox.trace_parent of the event, kept for its redrive';
