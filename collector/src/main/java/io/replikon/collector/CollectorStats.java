package io.replikon.collector;

/**
 * What a collector did since it started.
 *
 * @param accepted events journaled
 * @param repeats submissions acknowledged again for a known idempotency key
 * @param refused submissions refused because too many events waited
 * @param committed events committed
 * @param commits commits made
 * @param pending events accepted and not committed yet
 * @param recovered events found uncommitted in the journal at start
 */
public record CollectorStats(long accepted, long repeats, long refused, long committed,
    long commits, long pending, long recovered) {}
