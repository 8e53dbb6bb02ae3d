package io.replikon.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.replikon.error.ReplikonException;
import io.replikon.error.ReplikonException.Reason;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The behaviour every {@link Store} must have. Subclasses supply a fresh, empty store per test.
 */
abstract class StoreContract {
  protected Store store;

  /** Returns a new, empty, open store; the contract closes it after each test. */
  protected abstract Store newStore() throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    store = newStore();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static byte[] bytes(int... values) {
    byte[] result = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = (byte) values[i];
    }
    return result;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String string(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private List<byte[]> keysOf(Column column, byte[] prefix) {
    List<byte[]> keys = new ArrayList<>();
    store.scan(column, prefix, (k, v) -> keys.add(k));
    return keys;
  }

  @Test
  void get_absentKey_isEmpty() {
    assertThat(store.get(Column.COMMITS, utf8("nothing"))).isEmpty();
    assertThat(store.contains(Column.COMMITS, utf8("nothing"))).isFalse();
  }

  @Test
  void put_thenGet_returnsValue() {
    store.put(Column.CHUNKS, utf8("k"), utf8("v"));

    assertThat(store.get(Column.CHUNKS, utf8("k"))).hasValueSatisfying(
        v -> assertThat(v).isEqualTo(utf8("v")));
    assertThat(store.contains(Column.CHUNKS, utf8("k"))).isTrue();
  }

  @Test
  void put_sameKeyTwice_lastWins() {
    store.put(Column.HEADS, utf8("k"), utf8("first"));
    store.put(Column.HEADS, utf8("k"), utf8("second"));

    assertThat(store.get(Column.HEADS, utf8("k")).map(StoreContract::string)).hasValue("second");
    assertThat(keysOf(Column.HEADS, new byte[0])).hasSize(1);
  }

  @Test
  void put_emptyValue_isStoredAndDistinctFromAbsent() {
    store.put(Column.META, utf8("empty"), new byte[0]);

    assertThat(store.get(Column.META, utf8("empty"))).hasValueSatisfying(
        v -> assertThat(v).isEmpty());
    assertThat(store.contains(Column.META, utf8("empty"))).isTrue();
  }

  @Test
  void put_emptyKey_isAKeyLikeAnyOther() {
    store.put(Column.META, new byte[0], utf8("v"));
    store.put(Column.META, bytes(0), utf8("w"));

    assertThat(store.get(Column.META, new byte[0]).map(StoreContract::string)).hasValue("v");
    assertThat(keysOf(Column.META, new byte[0])).containsExactly(new byte[0], bytes(0));
  }

  @Test
  void delete_removesKey() {
    store.put(Column.APPLIED, utf8("k"), utf8("v"));
    store.delete(Column.APPLIED, utf8("k"));

    assertThat(store.get(Column.APPLIED, utf8("k"))).isEmpty();
    assertThat(store.contains(Column.APPLIED, utf8("k"))).isFalse();
  }

  @Test
  void delete_absentKey_isHarmless() {
    store.put(Column.APPLIED, utf8("other"), utf8("v"));

    store.delete(Column.APPLIED, utf8("absent"));

    assertThat(store.get(Column.APPLIED, utf8("absent"))).isEmpty();
    assertThat(store.get(Column.APPLIED, utf8("other")).map(StoreContract::string)).hasValue("v");
  }

  @Test
  void columns_areSeparateKeySpaces() {
    byte[] key = utf8("same");
    for (Column column : Column.values()) {
      store.put(column, key, utf8(column.id()));
    }
    store.delete(Column.HEADS, key);

    for (Column column : Column.values()) {
      if (column == Column.HEADS) {
        assertThat(store.get(column, key)).isEmpty();
      } else {
        assertThat(store.get(column, key).map(StoreContract::string)).hasValue(column.id());
        assertThat(keysOf(column, new byte[0])).hasSize(1);
      }
    }
  }

  @Test
  void write_batchAcrossColumns_appliesEveryOperation() {
    store.put(Column.HEADS, utf8("old"), utf8("x"));
    Batch batch = new Batch()
        .put(Column.COMMITS, utf8("c1"), utf8("commit"))
        .put(Column.CHUNKS, utf8("h1"), utf8("chunk"))
        .put(Column.HEADS, utf8("crdt"), utf8("c1"))
        .delete(Column.HEADS, utf8("old"));

    store.write(batch);

    assertThat(store.get(Column.COMMITS, utf8("c1")).map(StoreContract::string))
        .hasValue("commit");
    assertThat(store.get(Column.CHUNKS, utf8("h1")).map(StoreContract::string)).hasValue("chunk");
    assertThat(store.get(Column.HEADS, utf8("crdt")).map(StoreContract::string)).hasValue("c1");
    assertThat(store.contains(Column.HEADS, utf8("old"))).isFalse();
  }

  @Test
  void write_operationsApplyInOrder() {
    store.write(new Batch()
        .put(Column.META, utf8("a"), utf8("1"))
        .delete(Column.META, utf8("a"))
        .delete(Column.META, utf8("b"))
        .put(Column.META, utf8("b"), utf8("2"))
        .put(Column.META, utf8("c"), utf8("3"))
        .put(Column.META, utf8("c"), utf8("4")));

    assertThat(store.get(Column.META, utf8("a"))).isEmpty();
    assertThat(store.get(Column.META, utf8("b")).map(StoreContract::string)).hasValue("2");
    assertThat(store.get(Column.META, utf8("c")).map(StoreContract::string)).hasValue("4");
  }

  @Test
  void write_emptyBatch_changesNothing() {
    store.put(Column.META, utf8("k"), utf8("v"));

    store.write(new Batch());

    assertThat(keysOf(Column.META, new byte[0])).hasSize(1);
  }

  @Test
  void get_returnsACopy_callersCannotChangeTheStore() {
    byte[] key = utf8("k");
    byte[] value = utf8("value");
    store.put(Column.CHUNKS, key, value);
    value[0] = 'X';
    key[0] = 'X';
    store.get(Column.CHUNKS, utf8("k")).orElseThrow()[1] = 'Y';
    store.scan(Column.CHUNKS, new byte[0], (k, v) -> {
      k[0] = 'Z';
      v[2] = 'Z';
      return true;
    });

    assertThat(store.get(Column.CHUNKS, utf8("k")).map(StoreContract::string)).hasValue("value");
    assertThat(store.contains(Column.CHUNKS, utf8("X"))).isFalse();
  }

  @Test
  void codec_putAndGet_roundTrip() {
    Codec<Long> codec = new Codec<>() {
      @Override
      public byte[] encode(Long value) {
        return utf8(Long.toString(value));
      }

      @Override
      public Long decode(byte[] b) {
        return Long.parseLong(string(b));
      }
    };

    store.put(Column.META, utf8("n"), 42L, codec);

    assertThat(store.get(Column.META, utf8("n"), codec)).hasValue(42L);
    assertThat(store.get(Column.META, utf8("absent"), codec)).isEmpty();
    assertThat(store.get(Column.META, utf8("n")).map(StoreContract::string)).hasValue("42");
  }

  @Test
  void scan_prefix_visitsOnlyMatchingKeysInUnsignedOrder() {
    byte[][] inPrefix = {
        bytes(0x10), bytes(0x10, 0x00), bytes(0x10, 0x01), bytes(0x10, 0x7f), bytes(0x10, 0x80),
        bytes(0x10, 0xff), bytes(0x10, 0xff, 0x00), bytes(0x10, 0xff, 0xff)};
    byte[][] outside = {bytes(0x0f, 0xff), bytes(0x11), bytes(0x11, 0x00), bytes(0x00), bytes()};
    // insert in a scrambled order
    for (int i = inPrefix.length - 1; i >= 0; i -= 2) {
      store.put(Column.COMMITS, inPrefix[i], inPrefix[i]);
    }
    for (byte[] key : outside) {
      store.put(Column.COMMITS, key, key);
    }
    for (int i = inPrefix.length - 2; i >= 0; i -= 2) {
      store.put(Column.COMMITS, inPrefix[i], inPrefix[i]);
    }
    List<byte[]> values = new ArrayList<>();

    long visited = store.scan(Column.COMMITS, bytes(0x10), (k, v) -> {
      assertThat(v).isEqualTo(k);
      values.add(v);
      return true;
    });

    assertThat(visited).isEqualTo(inPrefix.length);
    assertThat(values).containsExactly(inPrefix);
  }

  @Test
  void scan_emptyPrefix_visitsWholeColumnInUnsignedOrder() {
    byte[][] sorted = {bytes(), bytes(0x00), bytes(0x00, 0x00), bytes(0x01), bytes(0x7f),
        bytes(0x80), bytes(0x80, 0x00), bytes(0xfe, 0xff), bytes(0xff), bytes(0xff, 0xff)};
    for (int i = sorted.length - 1; i >= 0; i--) {
      store.put(Column.HEADS, sorted[i], utf8("v" + i));
    }
    store.put(Column.META, bytes(0x01), utf8("other column"));

    assertThat(keysOf(Column.HEADS, new byte[0])).containsExactly(sorted);
  }

  @Test
  void scan_prefixOfFfBytes_visitsToTheEndOfTheColumn() {
    store.put(Column.CHUNKS, bytes(0xfe, 0xff, 0xff), utf8("before"));
    store.put(Column.CHUNKS, bytes(0xff, 0xff), utf8("a"));
    store.put(Column.CHUNKS, bytes(0xff, 0xff, 0x00), utf8("b"));
    store.put(Column.CHUNKS, bytes(0xff, 0xff, 0xff, 0xff), utf8("c"));
    store.put(Column.CHUNKS, bytes(0xff, 0xfe), utf8("outside"));

    assertThat(keysOf(Column.CHUNKS, bytes(0xff, 0xff))).containsExactly(
        bytes(0xff, 0xff), bytes(0xff, 0xff, 0x00), bytes(0xff, 0xff, 0xff, 0xff));
  }

  @Test
  void scan_noMatch_visitsNothing() {
    store.put(Column.CHUNKS, utf8("abc"), utf8("v"));

    long visited = store.scan(Column.CHUNKS, utf8("abd"), (k, v) -> {
      throw new AssertionError("visited " + string(k));
    });

    assertThat(visited).isZero();
    assertThat(store.scan(Column.COMMITS, new byte[0], (k, v) -> true)).isZero();
  }

  @Test
  void scan_visitorReturnsFalse_stops() {
    for (int i = 0; i < 10; i++) {
      store.put(Column.APPLIED, utf8("log/" + i), utf8("entry" + i));
    }
    List<String> seen = new ArrayList<>();

    long visited = store.scan(Column.APPLIED, utf8("log/"), (k, v) -> {
      seen.add(string(v));
      return seen.size() < 3;
    });

    assertThat(visited).isEqualTo(3);
    assertThat(seen).containsExactly("entry0", "entry1", "entry2");
  }

  @Test
  void scan_seesTheSnapshotTakenAtItsStart() {
    store.put(Column.META, utf8("p/1"), utf8("old"));
    store.put(Column.META, utf8("p/3"), utf8("old"));
    List<String> seen = new ArrayList<>();

    store.scan(Column.META, utf8("p/"), (k, v) -> {
      if (seen.isEmpty()) {
        store.write(new Batch()
            .put(Column.META, utf8("p/2"), utf8("new"))
            .put(Column.META, utf8("p/3"), utf8("new"))
            .put(Column.META, utf8("p/4"), utf8("new")));
      }
      seen.add(string(k) + "=" + string(v));
      return true;
    });

    assertThat(seen).containsExactly("p/1=old", "p/3=old");
    assertThat(keysOf(Column.META, utf8("p/"))).hasSize(4);
  }

  @Test
  void blobs_largeValue_roundTrips() {
    byte[] large = new byte[8 << 20];
    new Random(7).nextBytes(large);
    byte[] small = utf8("small blob");

    store.write(new Batch()
        .put(Column.BLOBS, utf8("large"), large)
        .put(Column.BLOBS, utf8("small"), small));

    assertThat(store.get(Column.BLOBS, utf8("large"))).hasValueSatisfying(
        v -> assertThat(v).isEqualTo(large));
    assertThat(store.contains(Column.BLOBS, utf8("large"))).isTrue();
    assertThat(store.get(Column.BLOBS, utf8("small"))).hasValueSatisfying(
        v -> assertThat(v).isEqualTo(small));
    List<Integer> sizes = new ArrayList<>();
    store.scan(Column.BLOBS, new byte[0], (k, v) -> sizes.add(v.length));
    assertThat(sizes).containsExactly(large.length, small.length);
  }

  /**
   * Returns how many times the store has synced its log to disk so far, or -1 for a store that
   * keeps nothing on disk (whose {@code sync()} has nothing to do).
   */
  protected long logSyncs() {
    return -1;
  }

  @Test
  void sync_afterWrites_keepsThemReadable() {
    long before = logSyncs();
    store.put(Column.HEADS, utf8("k"), utf8("v"));
    long afterWrite = logSyncs();

    store.sync();
    long afterSync = logSyncs();
    store.sync();

    assertThat(store.get(Column.HEADS, utf8("k")).map(StoreContract::string)).hasValue("v");
    if (before >= 0) {
      switch (store.durability()) {
        case SYNC -> assertThat(afterWrite).as("a SYNC write syncs").isGreaterThan(before);
        case BATCH -> {
          assertThat(afterWrite).as("a BATCH write does not sync").isEqualTo(before);
          assertThat(afterSync).as("sync() syncs what BATCH wrote").isGreaterThan(afterWrite);
        }
        case NONE -> assertThat(afterSync).as("NONE has no log to sync").isEqualTo(before);
      }
    }
  }

  @Test
  void describe_isOneLine() {
    assertThat(store.describe()).isNotBlank().doesNotContain("\n");
  }

  @Test
  void close_thenAnyCall_failsWithStoreClosed() {
    store.put(Column.META, utf8("k"), utf8("v"));
    store.close();

    List<Consumer<Store>> calls = List.of(
        s -> s.get(Column.META, utf8("k")),
        s -> s.contains(Column.META, utf8("k")),
        s -> s.put(Column.META, utf8("k"), utf8("v")),
        s -> s.delete(Column.META, utf8("k")),
        s -> s.write(new Batch().put(Column.META, utf8("k"), utf8("v"))),
        s -> s.write(new Batch()),
        s -> s.scan(Column.META, new byte[0], (k, v) -> true),
        Store::sync);
    for (Consumer<Store> call : calls) {
      assertThatThrownBy(() -> call.accept(store))
          .isInstanceOfSatisfying(ReplikonException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.STORE_CLOSED));
    }
  }

  @Test
  void close_twice_isHarmless() {
    store.close();
    store.close();

    assertThatThrownBy(() -> store.get(Column.META, utf8("k")))
        .isInstanceOf(ReplikonException.class);
  }

  /**
   * Writers publish a commit and the head that points to it in one batch (head first), plus a
   * group of chunks that all carry the batch's number. Readers must never see a head whose commit
   * is missing, nor a group of chunks from two different batches.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void write_batchAcrossColumns_isAllOrNothingVisible() throws Exception {
    int writers = 2;
    int readers = 2;
    int groupSize = 8;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong checks = new AtomicLong();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<Thread> writerThreads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int id = w;
      Thread t = new Thread(() -> {
        try {
          start.await();
          for (int i = 1; i <= 400 && System.nanoTime() < deadline; i++) {
            byte[] commit = utf8("commit/" + id + "/" + i);
            Batch batch = new Batch()
                .put(Column.HEADS, utf8("crdt/" + id), commit)
                .put(Column.COMMITS, commit, utf8("value " + i));
            for (int c = 0; c < groupSize; c++) {
              batch.put(Column.CHUNKS, utf8("group/" + id + "/" + c), utf8(Integer.toString(i)));
            }
            store.write(batch);
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      writerThreads.add(t);
      threads.add(t);
    }
    for (int r = 0; r < readers; r++) {
      threads.add(new Thread(() -> {
        try {
          start.await();
          while (!done.get()) {
            for (int id = 0; id < writers; id++) {
              Optional<byte[]> head = store.get(Column.HEADS, utf8("crdt/" + id));
              if (head.isPresent() && !store.contains(Column.COMMITS, head.get())) {
                throw new AssertionError("head points to missing " + string(head.get()));
              }
              List<String> group = new ArrayList<>();
              store.scan(Column.CHUNKS, utf8("group/" + id + "/"), (k, v) -> group.add(string(v)));
              if (!group.isEmpty() && (group.size() != groupSize
                  || group.stream().distinct().count() != 1)) {
                throw new AssertionError("half a batch visible: " + group);
              }
              checks.incrementAndGet();
            }
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }));
    }
    threads.forEach(Thread::start);
    start.countDown();
    for (Thread t : writerThreads) {
      t.join();
    }
    done.set(true);
    for (Thread t : threads) {
      t.join();
    }

    assertThat(failures).isEmpty();
    assertThat(checks.get()).isPositive();
    for (int id = 0; id < writers; id++) {
      byte[] head = store.get(Column.HEADS, utf8("crdt/" + id)).orElseThrow();
      assertThat(store.contains(Column.COMMITS, head)).isTrue();
    }
  }
}
