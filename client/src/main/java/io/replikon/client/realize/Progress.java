package io.replikon.client.realize;

import java.time.Duration;

/**
 * How far a realization run is: counted since the run started ({@link Realizer#runUntilSynced()},
 * {@link Realizer#start()} or {@link Realizer#reset()}).
 *
 * @param commitsApplied commits fully applied
 * @param transactionsApplied transactions applied (skipped ones included)
 * @param commitsTotal commits applied plus those known to be left
 * @param elapsed time since the run started
 */
public record Progress(long commitsApplied, long transactionsApplied, long commitsTotal,
    Duration elapsed) {}
