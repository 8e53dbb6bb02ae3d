package io.replikon.collector;

/**
 * The answer to a {@link Submission}: how many events are durable now.
 *
 * @param count the number of events the submission holds (for a repeat, the count of the first)
 * @param repeat true if its idempotency key had been journaled before, so nothing new was
 */
public record Accepted(int count, boolean repeat) {}
