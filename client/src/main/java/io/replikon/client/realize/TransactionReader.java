package io.replikon.client.realize;

import io.replikon.cdvcs.Chunk;
import io.replikon.cdvcs.Commit;
import io.replikon.cdvcs.Transaction;
import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import io.replikon.value.CanonicalCbor;
import io.replikon.value.CborJson;
import io.replikon.value.Hash;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Reads the transactions of one commit from its chunks, in order, without decoding their params:
 * each {@link #next()} reads the {@code [fn, params]} header and the fn, and hands out an
 * {@link AppliedTransaction} that decodes or transcodes its params on demand. Before moving on
 * it finds where the params ended, checking them if nobody read them, so every transaction is
 * checked as strictly as {@link Chunk#decode} checks it, one at a time.
 *
 * <p>The canonical shape (a definite array of two, a definite text fn) is read directly; any other
 * well-formed encoding of a transaction is decoded as a whole. Used by one thread.
 */
final class TransactionReader {
  private final Hash commitId;
  private final Commit info;
  private final List<Chunk> chunks;
  private final int size;
  private int chunkIndex = -1;
  private byte[] in;
  private int pos;
  private int leftInChunk;
  private int index;
  /** The transaction handed out last, whose params end is asked before reading on; or null. */
  private AppliedTransaction pending;
  private byte[] lastFnBytes = new byte[0];
  private String lastFn;

  TransactionReader(Hash commitId, Commit info, List<Chunk> chunks) {
    this.commitId = commitId;
    this.info = info;
    this.chunks = chunks;
    long n = 0;
    for (Chunk c : chunks) {
      n += c.transactionCount();
    }
    if (n > Integer.MAX_VALUE) {
      throw malformed("commit " + commitId.shortHex() + " claims " + n + " transactions");
    }
    this.size = (int) n;
  }

  /** Returns how many transactions the commit has, as its chunks' headers say. */
  int size() {
    return size;
  }

  /**
   * Returns the next transaction.
   *
   * @throws ReplikonException {@code MALFORMED_VALUE} if the previous one's params or this one are
   *     malformed, or there is none left
   */
  AppliedTransaction next() {
    finishPending();
    while (leftInChunk == 0) {
      nextChunk();
    }
    leftInChunk--;
    int i = index++;
    int start = pos;
    byte[] b = in;
    int end = b.length;
    if (end - start >= 2 && b[start] == (byte) 0x82 && (b[start + 1] & 0xe0) == 0x60
        && (b[start + 1] & 0x1f) != 0x1f) {
      int fnStart = start + 1;
      int fnEnd = CborJson.skip(b, fnStart, end);
      int ai = b[fnStart] & 0x1f;
      int textStart = fnStart + (ai < 24 ? 1 : ai == 24 ? 2 : ai == 25 ? 3 : ai == 26 ? 5 : 9);
      String fn = fn(b, textStart, fnEnd);
      pending = new AppliedTransaction(commitId, i, fn, info, b, fnEnd, end);
      return pending;
    }
    // another well-formed encoding, if it is one: decode it whole
    int txEnd = CborJson.skip(b, start, end);
    Transaction tx = Transaction.fromValue(CanonicalCbor.decode(b, start, txEnd - start));
    pos = txEnd;
    return new AppliedTransaction(commitId, i, tx, info);
  }

  /** Steps over the next transaction, checking it. */
  void skip() {
    next();
    finishPending();
  }

  /**
   * Checks that the last chunk ends after its last transaction; call after reading them all.
   *
   * @throws ReplikonException {@code MALFORMED_VALUE} if bytes follow
   */
  void finish() {
    finishPending();
    while (chunkIndex + 1 < chunks.size()) { // chunks of no transactions
      nextChunk();
    }
    checkChunkEnd();
  }

  private void finishPending() {
    if (pending != null) {
      pos = pending.paramsEnd();
      pending = null;
    }
  }

  private void nextChunk() {
    if (chunkIndex >= 0) {
      checkChunkEnd();
    }
    chunkIndex++;
    if (chunkIndex >= chunks.size()) {
      throw malformed("commit " + commitId.shortHex() + " has no transaction " + index);
    }
    Chunk c = chunks.get(chunkIndex);
    in = c.bytes();
    int declared = Chunk.countTransactions(in);
    if (declared != c.transactionCount()) {
      throw malformed("chunk " + c.id().shortHex() + " holds " + declared
          + " transactions, not " + c.transactionCount());
    }
    int ai = in[0] & 0x1f;
    pos = ai < 24 ? 1 : ai == 24 ? 2 : ai == 25 ? 3 : 5;
    leftInChunk = declared;
  }

  private void checkChunkEnd() {
    if (in != null && pos != in.length) {
      throw malformed("chunk " + chunks.get(chunkIndex).id().shortHex() + " has "
          + (in.length - pos) + " trailing byte(s) after its transactions");
    }
  }

  /** Returns the fn in {@code b[from, to)} (checked UTF-8), reusing the last one if the same. */
  private String fn(byte[] b, int from, int to) {
    if (from == to) {
      throw malformed("a transaction is [fn, params] with a non-empty string fn");
    }
    if (!Arrays.equals(b, from, to, lastFnBytes, 0, lastFnBytes.length)) {
      lastFnBytes = Arrays.copyOfRange(b, from, to);
      lastFn = new String(lastFnBytes, StandardCharsets.UTF_8);
    }
    return lastFn;
  }

  private static ReplikonException malformed(String what) {
    return new ReplikonException(Reason.MALFORMED_VALUE, what);
  }
}
